"""Apollo Client 3 (``clients/apollo/run.js``), with its default headers (``Accept: */*``).

``BatchHttpLink`` sends three operations as one HTTP request, answered in fewer upstream calls than the
same three sent one request each (the emulator counts the calls); a validation error arrives as
``graphQLErrors``, not as a network error (docs/http.md)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from .conftest import Clients, Served

pytestmark = pytest.mark.clients


async def _apollo(clients: Clients, served: Served, *args: str) -> Any:
    output = await clients.run(
        "node", "apollo/run.js", *args, env={"GATEWAY_URL": served.url, "GATEWAY_KEY": served.key}
    )
    return json.loads(output)


async def _category_and_event(served: Served) -> tuple[str, str]:
    async with httpx.AsyncClient(
        base_url=served.emulator.api_url, headers={"Authorization": f"Bearer {served.key}"}
    ) as rest:
        category = (await rest.get("/event/category")).json()["results"][0]
        event = (await rest.get("/event/events", params={"parent_id": category["id"]})).json()["results"][0]
    return category["id"], event["id"]


async def test_batch_http_link_sends_three_operations_as_one_request_for_fewer_upstream_calls(
    clients: Clients, served: Served
) -> None:
    category, event = await _category_and_event(served)

    await served.admin.reset()
    separate = await _apollo(clients, served, "separate", category, event)
    calls_separate = (await served.admin.stats())["total"]

    await served.admin.reset()
    batched = await _apollo(clients, served, "batch", category, event)
    calls_batched = (await served.admin.stats())["total"]

    assert separate["httpRequests"] == 3
    assert batched["httpRequests"] == 1
    assert batched["errors"] == [None, None, None]
    assert batched["data"] == separate["data"]
    assert batched["data"][0]["eventCategory"]["id"] == category
    assert batched["data"][1]["event"]["category"]["id"] == category
    assert len(batched["data"][2]["eventCategories"]["nodes"]) == 3
    assert calls_batched < calls_separate


async def test_a_validation_error_reaches_apollo_client_3_as_graphql_errors(
    clients: Clients, served: Served
) -> None:
    outcome = await _apollo(clients, served, "invalid")
    assert outcome == {
        "graphQLErrors": ["GRAPHQL_VALIDATION_FAILED"],
        "networkError": None,
        "httpRequests": 1,
    }
