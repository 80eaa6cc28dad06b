"""Browsers on other origins call ``/graphql`` exactly as far as ``cors_origins`` allows (none by default)."""

from __future__ import annotations

import httpx

from events_gateway.emulator import DEMO_API_KEY

from .conftest import GatewayFactory

APP_ORIGIN = "https://app.example.com"
PREFLIGHT = {
    "Origin": APP_ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_preflight_from_any_origin_is_allowed_with_a_star(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(cors_origins=("*",))
    response = await http.options(f"{gateway}/graphql", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", APP_ORIGIN)
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    assert int(response.headers["access-control-max-age"]) > 0


async def test_cross_origin_response_exposes_the_request_id(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(cors_origins=(APP_ORIGIN,))
    headers = {"Origin": APP_ORIGIN, "Authorization": f"Bearer {DEMO_API_KEY}"}
    response = await http.post(f"{gateway}/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers


async def test_a_listed_origin_is_allowed_and_others_are_not(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(cors_origins=(APP_ORIGIN,))
    allowed = await http.options(f"{gateway}/graphql", headers=PREFLIGHT)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN

    refused = await http.options(
        f"{gateway}/graphql", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers

    simple = await http.post(
        f"{gateway}/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in simple.headers


async def test_by_default_no_origin_is_allowed(gateway: str, http: httpx.AsyncClient) -> None:
    preflight = await http.options(f"{gateway}/graphql", headers=PREFLIGHT)
    assert preflight.status_code in (403, 405)
    assert "access-control-allow-origin" not in preflight.headers
    response = await http.post(
        f"{gateway}/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP_ORIGIN}
    )
    assert "access-control-allow-origin" not in response.headers
