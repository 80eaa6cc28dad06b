"""Each GraphQL request runs under one upstream deadline, and asks for a page at most once at a time.

The deadline is opened by the view around execution and read by the resilient transport from a context
variable, so it must reach every task the request spawns: aiodataloader's batch tasks included.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from aiodataloader import DataLoader

from events_gateway.emulator import EmulatorAdmin
from events_gateway.server import upstream_settings
from events_gateway.settings import Settings
from events_gateway.upstream.resilience import Deadline, current_deadline, deadline_scope

from .conftest import GatewayFactory

TWO_WINDOWS = """{
  a: eventCategories(first: 2) { nodes { id } }
  b: eventCategories(first: 3) { nodes { id } }
}"""
TREE = "{ eventCategories { nodes { id events { nodes { id properties { nodes { id } } } } } } }"


async def post(http: httpx.AsyncClient, url: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    # A client timeout well under the upstream's: only the gateway's own deadline can end these in time.
    response = await http.post(f"{url}/graphql", json={"query": query}, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_two_aliases_reaching_the_same_page_make_one_call(
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
    emulator_admin: EmulatorAdmin,
) -> None:
    url = await gateway_factory()
    await emulator_admin.reset()
    body = await post(http, url, api_headers, TWO_WINDOWS)
    assert "errors" not in body
    a, b = body["data"]["a"]["nodes"], body["data"]["b"]["nodes"]
    assert (len(a), len(b)) == (2, 3)
    assert a == b[:2]
    stats = await emulator_admin.stats()
    assert stats["by_route"] == {"GET /resource/catalog": 1}


async def test_a_stalled_upstream_ends_at_the_request_deadline(
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
    emulator_admin: EmulatorAdmin,
) -> None:
    url = await gateway_factory(request_deadline=0.5, upstream_timeout=60.0)
    await emulator_admin.configure(fault_rate=1.0, faults=["stall"], stall_seconds=60)
    await emulator_admin.reset()
    body = await post(http, url, api_headers, TREE)
    assert body["data"] is None
    assert {error["extensions"]["code"] for error in body["errors"]} == {"UPSTREAM_TIMEOUT"}


async def test_the_deadline_reaches_loader_batches() -> None:
    """aiodataloader schedules each batch with ``call_soon`` and ``ensure_future``; both carry the context
    of the first ``load`` of the batch, so the batch function runs under the request's deadline."""
    seen: list[Deadline | None] = []

    async def batch(keys: list[int]) -> list[int]:
        seen.append(current_deadline())
        await asyncio.sleep(0)
        return keys

    loader: DataLoader[int, int] = DataLoader(batch)
    with deadline_scope(5.0) as deadline:
        assert list(await asyncio.gather(loader.load(1), loader.load(2))) == [1, 2]
        assert await asyncio.ensure_future(loader.load(3)) == 3  # a load from a task of the request
    assert await DataLoader(batch).load(4) == 4  # outside any request
    assert deadline is not None
    assert seen == [deadline, deadline, None]


def test_the_upstream_client_gets_the_retry_and_breaker_settings() -> None:
    settings = Settings(
        upstream_url="http://127.0.0.1:1/api/v1",
        retry_max_attempts=5,
        breaker_failure_threshold=7,
        breaker_cooldown=0.25,
    )
    upstream = upstream_settings(settings)
    assert upstream.retry.max_attempts == 5
    assert upstream.breaker is not None
    assert (upstream.breaker.failure_threshold, upstream.breaker.cooldown) == (7, 0.25)
