"""Batched requests: a JSON array of operations on ``POST /graphql``, answered with an array in its order.

The operations of a batch share one set of loaders (so the batch costs fewer upstream calls than its
operations sent apart) and one cost budget; errors stay with their operation; mutations run in order.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from events_gateway.emulator import EmulatorAdmin, RunningEmulator

from .conftest import GatewayFactory
from .test_graphql_over_http_spec import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, codes, post

CATEGORY = (
    "query Category($id: ID!) { eventCategory(id: $id) { id title events(first: 5) { nodes { id } } } }"
)
EVENT = "query Event($id: ID!) { event(id: $id) { id title category { id title } } }"
FIRST = "query First { eventCategories(first: 3) { nodes { id title } } }"
COUNT = "query Count { eventCategories { totalCount } }"
CREATE = (
    'mutation Create($i: ID!) { createEventCategory(input: {title: "Batched", integrationId: $i}) { id } }'
)


async def _ids(http: httpx.AsyncClient, gateway: str) -> dict[str, str]:
    query = "{ eventCategories(first: 1) { nodes { id integrationId events(first: 1) { nodes { id } } } } }"
    category = (await post(http, gateway, {"query": query})).json()["data"]["eventCategories"]["nodes"][0]
    return {
        "category": category["id"],
        "integration": category["integrationId"],
        "event": category["events"]["nodes"][0]["id"],
    }


def _three(ids: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"query": CATEGORY, "variables": {"id": ids["category"]}},
        {"query": EVENT, "variables": {"id": ids["event"]}},
        {"query": FIRST},
    ]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, APPLICATION_JSON])
async def test_a_batch_is_answered_in_order_with_fewer_upstream_calls(
    gateway: str, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin, accept: str
) -> None:
    operations = _three(await _ids(http, gateway))
    await emulator_admin.reset()
    alone = [(await post(http, gateway, operation, accept=accept)).json() for operation in operations]
    calls_alone = (await emulator_admin.stats())["total"]

    await emulator_admin.reset()
    response = await post(http, gateway, operations, accept=accept)
    calls_batched = (await emulator_admin.stats())["total"]

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept
    assert response.json() == alone
    assert all("errors" not in entry for entry in alone)
    # the category and the event are looked up in one call, and the event's category is then known
    assert calls_batched < calls_alone


async def test_errors_stay_with_their_operation(gateway: str, http: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    operations = [
        {"query": FIRST},
        {"query": "{"},
        {"query": "{ noSuchField }"},
        {"query": EVENT, "variables": {"id": missing}},
        {"variables": {}},
        {"query": FIRST, "operationName": "Other"},
        {"query": "query($n: Int!) { eventCategories(first: $n) { totalCount } }"},
    ]
    response = await post(http, gateway, operations, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 200  # each entry carries its own outcome
    first, parse, validation, not_found, no_query, no_operation, variables = response.json()
    assert "errors" not in first
    assert len(first["data"]["eventCategories"]["nodes"]) == 3
    assert [e["extensions"]["code"] for e in parse["errors"]] == ["GRAPHQL_PARSE_FAILED"]
    assert [e["extensions"]["code"] for e in validation["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert not_found["data"] == {"event": None}
    assert [e["extensions"]["code"] for e in not_found["errors"]] == ["NOT_FOUND"]
    assert [e["extensions"]["code"] for e in no_query["errors"]] == ["BAD_REQUEST"]
    assert no_query["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]
    assert [e["extensions"]["code"] for e in no_operation["errors"]] == ["OPERATION_RESOLUTION_FAILURE"]
    assert [e["extensions"]["code"] for e in variables["errors"]] == ["BAD_USER_INPUT"]
    for entry in (parse, validation, no_query, no_operation, variables):
        assert "data" not in entry  # request errors: the operation never ran


async def test_a_batch_over_the_limit_is_refused_whole(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(max_batch=2)
    await emulator_admin.reset()
    response = await post(http, gateway, [{"query": FIRST}] * 3, accept=GRAPHQL_RESPONSE_JSON)
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]
    assert response.json()["errors"][0]["message"].startswith("The batch holds 3 operations; the limit is 2.")
    assert (await emulator_admin.stats())["total"] == 0
    assert (await post(http, gateway, [{"query": FIRST}] * 2)).status_code == 200


async def test_the_cost_budget_covers_the_whole_batch(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    # 1 + 1, and 1 for the page of events the planner may read ahead by type
    three_calls = "{ eventCategories(first: 10) { nodes { events(first: 1) { totalCount } } } }"
    gateway = await gateway_factory(max_cost=5)
    assert (await post(http, gateway, {"query": three_calls})).json()["data"] is not None

    admitted, refused = (await post(http, gateway, [{"query": three_calls}] * 2)).json()

    assert "errors" not in admitted
    assert "data" not in refused
    [error] = refused["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "cost",
        "cost": 3,
        "batchCost": 6,
        "maxCost": 5,
    }


async def test_mutations_run_in_the_order_of_the_batch(
    gateway: str, http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    ids = await _ids(http, gateway)
    create = {"query": CREATE, "variables": {"i": ids["integration"]}}
    before, created, after, again, last = (
        await post(http, gateway, [{"query": COUNT}, create, {"query": COUNT}, create, {"query": COUNT}])
    ).json()
    counts = [entry["data"]["eventCategories"]["totalCount"] for entry in (before, after, last)]
    assert counts == [counts[0], counts[0] + 1, counts[0] + 2]
    assert created["data"]["createEventCategory"]["id"] != again["data"]["createEventCategory"]["id"]


async def test_a_persisted_mutation_sent_by_hash_runs_in_order_too(
    gateway: str, http: httpx.AsyncClient
) -> None:
    ids = await _ids(http, gateway)
    create = {"query": CREATE, "variables": {"i": ids["integration"]}}
    sha = hashlib.sha256(CREATE.encode()).hexdigest()
    persisted = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    registered = (await post(http, gateway, {**create, **persisted})).json()
    assert "errors" not in registered

    by_hash = {"variables": create["variables"], **persisted}
    before, created, after = (await post(http, gateway, [{"query": COUNT}, by_hash, {"query": COUNT}])).json()
    assert "errors" not in created
    counts = [entry["data"]["eventCategories"]["totalCount"] for entry in (before, after)]
    assert counts[1] == counts[0] + 1


async def test_later_operations_read_what_earlier_ones_loaded(
    gateway: str, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    ids = await _ids(http, gateway)
    read = {"query": "query($id: ID!) { event(id: $id) { title } }", "variables": {"id": ids["event"]}}
    create = {"query": CREATE, "variables": {"i": ids["integration"]}}
    await emulator_admin.reset()

    first, _, second = (await post(http, gateway, [read, create, read])).json()

    assert first == second
    # the lookup and the write; the second read, after the mutation, finds the event already loaded
    assert (await emulator_admin.stats())["by_route"] == {
        "GET /resource/catalog": 1,
        "POST /event/category": 1,
    }
