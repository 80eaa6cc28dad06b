"""One transient upstream fault on a read costs the caller nothing; a write meets its fault exactly once.

A real gateway over the real emulator, whose ``fail_next`` aid fails exactly the next upstream requests
with the kinds given, so each case knows which call met the fault and how many calls arrived.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from events_gateway.emulator import EmulatorAdmin, RunningEmulator
from events_gateway.server import DEMO_QUERY

from .conftest import GatewayFactory

CREATE_CATEGORY = """mutation ($title: String!, $integration: ID!) {
  createEventCategory(input: {title: $title, integrationId: $integration}) { id title }
}"""


async def graphql(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = await http.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("fault", ["500", "malformed"])
async def test_a_transient_fault_on_a_get_is_retried_and_the_answer_is_whole(
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
    emulator_admin: EmulatorAdmin,
    fault: str,
) -> None:
    url = await gateway_factory(cache_ttl=0)  # every request reaches the upstream and meets its faults
    clean = await graphql(http, url, api_headers, DEMO_QUERY)
    assert "errors" not in clean
    await emulator_admin.reset()
    await graphql(http, url, api_headers, DEMO_QUERY)
    clean_calls = (await emulator_admin.stats())["total"]

    await emulator_admin.configure(fail_next=[fault])
    await emulator_admin.reset()
    assert await graphql(http, url, api_headers, DEMO_QUERY) == clean
    calls = (await emulator_admin.stats())["calls"]
    assert len(calls) == clean_calls + 1  # the faulted call, asked again
    first, again = calls[0], calls[1]
    assert first["route"] == again["route"]
    assert (first["status"], again["status"]) == (500 if fault == "500" else 200, 200)


async def test_a_mutation_facing_a_500_is_sent_exactly_once(
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
) -> None:
    url = await gateway_factory()
    integrations = await http.get(f"{emulator.api_url}/integration/integrations/", headers=api_headers)
    integration = integrations.json()["results"][0]["id"]
    await emulator_admin.configure(fail_next=["500"])
    await emulator_admin.reset()
    body = await graphql(
        http, url, api_headers, CREATE_CATEGORY, {"title": "Sent once", "integration": integration}
    )
    assert body["data"] is None or body["data"]["createEventCategory"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    stats = await emulator_admin.stats()
    assert stats["by_route"] == {"POST /event/category": 1}
    found = await http.get(
        f"{emulator.api_url}/event/category/", params={"title": "Sent once"}, headers=api_headers
    )
    assert found.json()["results"] == []
