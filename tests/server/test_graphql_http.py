"""``/graphql`` over real HTTP: GraphQL-over-HTTP clauses, request ids and the caller's key."""

from __future__ import annotations

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY

from .conftest import EmulatorFactory, GatewayFactory

CATEGORY_TITLES = "{ eventCategories { nodes { title } } }"
DEMO_AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}


def titles(body: dict[str, object]) -> set[str]:
    data = body["data"]
    assert isinstance(data, dict), body
    return {node["title"] for node in data["eventCategories"]["nodes"]}


async def test_post_query_answers_with_the_callers_workspace(gateway: str, http: httpx.AsyncClient) -> None:
    response = await http.post(f"{gateway}/graphql", json={"query": CATEGORY_TITLES}, headers=DEMO_AUTH)
    assert response.status_code == 200
    # httpx sends "Accept: */*", answered as application/json (docs/http.md)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "errors" not in body
    assert "Landing Page" in titles(body)


async def test_get_query_is_executed(gateway: str, http: httpx.AsyncClient) -> None:
    """GraphQL over HTTP: queries MAY be sent with GET (so that CDNs can cache them)."""
    response = await http.get(f"{gateway}/graphql", params={"query": CATEGORY_TITLES}, headers=DEMO_AUTH)
    assert response.status_code == 200
    assert "Landing Page" in titles(response.json())


async def test_get_query_with_variables_and_operation_name(gateway: str, http: httpx.AsyncClient) -> None:
    query = "query Two($n: Int) { eventCategories(first: $n) { nodes { title } } } query Other { __typename }"
    params = {"query": query, "variables": '{"n": 2}', "operationName": "Two"}
    response = await http.get(f"{gateway}/graphql", params=params, headers=DEMO_AUTH)
    assert response.status_code == 200
    assert len(titles(response.json())) == 2


async def test_mutation_over_get_is_refused_with_405(gateway: str, http: httpx.AsyncClient) -> None:
    """GraphQL over HTTP: a mutation over GET — the server MUST respond 405 and not execute it."""
    mutation = 'mutation { createEventCategory(input: {title: "Sneaky"}) { id } }'
    response = await http.get(f"{gateway}/graphql", params={"query": mutation}, headers=DEMO_AUTH)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["message"] == "mutations are not allowed when using GET"

    after = await http.post(f"{gateway}/graphql", json={"query": CATEGORY_TITLES}, headers=DEMO_AUTH)
    assert "Sneaky" not in titles(after.json())


async def test_malformed_json_body_is_a_400_with_a_json_error(gateway: str, http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"{gateway}/graphql", content=b"{not json", headers={"Content-Type": "application/json", **DEMO_AUTH}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["message"].startswith("The request body is not valid JSON")
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_other_methods_are_not_allowed(gateway: str, http: httpx.AsyncClient) -> None:
    response = await http.put(f"{gateway}/graphql", json={"query": CATEGORY_TITLES})
    assert response.status_code == 405


# --- request ids ------------------------------------------------------------------------------------


async def test_a_sane_incoming_request_id_is_echoed(gateway: str, http: httpx.AsyncClient) -> None:
    headers = {"X-Request-Id": "lb-7f3a.42:trace_1", **DEMO_AUTH}
    response = await http.post(f"{gateway}/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "lb-7f3a.42:trace_1"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 200, "semi;colon", "<script>"])
async def test_an_insane_request_id_is_replaced(gateway: str, http: httpx.AsyncClient, incoming: str) -> None:
    response = await http.post(
        f"{gateway}/graphql", json={"query": "{ __typename }"}, headers={"X-Request-Id": incoming}
    )
    generated = response.headers["x-request-id"]
    assert generated != incoming
    assert len(generated) == 32
    assert all(c in "0123456789abcdef" for c in generated)


async def test_each_request_gets_its_own_id_on_every_route(gateway: str, http: httpx.AsyncClient) -> None:
    ids = set()
    for path in ("/healthz", "/graphql?query=%7B__typename%7D", "/no-such-page"):
        response = await http.get(f"{gateway}{path}")
        ids.add(response.headers["x-request-id"])
    assert len(ids) == 3


# --- the caller's key -------------------------------------------------------------------------------


async def test_without_any_key_the_answer_is_unauthenticated(gateway: str, http: httpx.AsyncClient) -> None:
    response = await http.post(f"{gateway}/graphql", json={"query": CATEGORY_TITLES})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_wrong_bearer_key_is_forwarded_and_rejected_upstream(
    gateway: str, http: httpx.AsyncClient
) -> None:
    headers = {"Authorization": "Bearer 00000000-0000-0000-0000-000000000000"}
    response = await http.post(f"{gateway}/graphql", json={"query": CATEGORY_TITLES}, headers=headers)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_fallback_key_serves_requests_without_a_header(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    response = await http.post(f"{gateway}/graphql", json={"query": CATEGORY_TITLES})
    assert "Landing Page" in titles(response.json())


async def test_the_callers_key_wins_over_the_fallback_key(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    headers = {"Authorization": "bearer 00000000-0000-0000-0000-000000000000"}
    response = await http.post(f"{gateway}/graphql", json={"query": CATEGORY_TITLES}, headers=headers)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_two_keys_see_their_own_workspaces(
    emulator_factory: EmulatorFactory, gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    alpha, beta = "0f0f0f0f-aaaa-4aaa-8aaa-000000000001", "0f0f0f0f-bbbb-4bbb-8bbb-000000000002"
    upstream = await emulator_factory(api_keys={alpha: "alpha", beta: "beta"})
    beta_auth = {"Authorization": f"Bearer {beta}"}
    integrations = await http.get(f"{upstream.api_url}/integration/integrations/", headers=beta_auth)
    integration = integrations.json()["results"][0]["id"]
    created = await http.post(
        f"{upstream.api_url}/event/category/",
        json={"title": "Only In Beta", "integration": integration},
        headers=beta_auth,
    )
    assert created.status_code == 201, created.text
    gateway = await gateway_factory(upstream_url=upstream.api_url)

    async def seen_by(key: str) -> set[str]:
        headers = {"Authorization": f"Bearer {key}"}
        response = await http.post(f"{gateway}/graphql", json={"query": CATEGORY_TITLES}, headers=headers)
        return titles(response.json())

    seen_by_beta, seen_by_alpha = await seen_by(beta), await seen_by(alpha)
    assert "Only In Beta" in seen_by_beta
    assert "Only In Beta" not in seen_by_alpha
    assert seen_by_beta - seen_by_alpha == {"Only In Beta"}
