"""Live queries over Server-Sent Events (``graphql-sse``, distinct connections mode) on ``/graphql/stream``,
read with httpx's streaming client from a real gateway over a real emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from aiohttp.test_utils import TestServer

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.server import create_app
from events_gateway.settings import Settings

from ..conftest import retitle_upstream
from .conftest import GatewayFactory
from .live_clients import DEMO_AUTH, PATIENCE, TREE, metric, wait_for_metric

SSE = {"Accept": "text/event-stream"}
EVENTS = "subscription Events { events(first: 3) { totalCount nodes { id title } } }"


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event name, data) of each event of an SSE response; comments (keep-alive pings) are skipped."""
    name, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
        elif line == "" and name:
            yield name, json.loads(data) if data else None
            name, data = "", ""


async def next_event(stream: AsyncIterator[tuple[str, Any]]) -> tuple[str, Any]:
    async with asyncio.timeout(PATIENCE):
        return await anext(stream)


async def test_a_subscription_streams_its_query_then_each_change(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    gateway = await gateway_factory(live_interval=0.05)
    expected = await http.post(
        f"{gateway}/graphql", json={"query": TREE.replace("subscription ", "query ", 1)}, headers=DEMO_AUTH
    )
    body = {"query": TREE}
    async with http.stream(
        "POST", f"{gateway}/graphql/stream", json=body, headers=SSE | DEMO_AUTH
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        stream = events(response)
        name, first = await next_event(stream)
        assert (name, first) == ("next", expected.json())

        # A change made on the upstream directly comes at a poll; unchanged polls before it sent nothing.
        await wait_for_metric(
            http, gateway, "events_gateway_live_polls_total", lambda n: n >= 3, changed="false"
        )
        event = first["data"]["eventCategories"]["nodes"][0]["events"]["nodes"][0]
        await retitle_upstream(emulator, event["id"], "Renamed elsewhere")
        name, second = await next_event(stream)
    assert name == "next"
    assert second["data"]["eventCategories"]["nodes"][0]["events"]["nodes"][0]["title"] == "Renamed elsewhere"
    # The client went away: its subscription and its live query with it.
    await wait_for_metric(http, gateway, "events_gateway_live_queries", lambda n: n == 0)


async def test_a_mutation_through_the_gateway_pushes_to_a_stream(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(live_interval=3600)
    body = {"query": EVENTS}
    async with http.stream(
        "GET", f"{gateway}/graphql/stream", params=body, headers=SSE | DEMO_AUTH
    ) as response:
        stream = events(response)
        _, first = await next_event(stream)
        event = first["data"]["events"]["nodes"][0]
        renamed = await http.post(
            f"{gateway}/graphql",
            json={
                "query": 'mutation($id: ID!) { updateEvent(id: $id, input: {title: "Renamed here"}) { id } }',
                "variables": {"id": event["id"]},
            },
            headers=DEMO_AUTH,
        )
        assert "errors" not in renamed.json(), renamed.json()
        _, second = await next_event(stream)
    assert second["data"]["events"]["nodes"][0] == {"id": event["id"], "title": "Renamed here"}
    assert await metric(http, gateway, "events_gateway_live_polls_total", reason="write") == 1


async def test_a_query_streams_one_result_then_completes(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory()
    document = "{ eventCategories { totalCount } }"
    async with http.stream(
        "POST", f"{gateway}/graphql/stream", json={"query": document}, headers=SSE | DEMO_AUTH
    ) as response:
        received = [item async for item in events(response)]
    assert received[0][0] == "next"
    assert received[0][1]["data"]["eventCategories"]["totalCount"] > 0
    assert received[1:] == [("complete", None)]


async def test_the_stream_endpoint_answers_event_streams_only(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory()
    response = await http.post(f"{gateway}/graphql/stream", json={"query": EVENTS}, headers=DEMO_AUTH)
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_a_subscription_over_plain_http_says_where_to_subscribe(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory()
    await emulator_admin.reset()
    response = await http.post(f"{gateway}/graphql", json={"query": EVENTS}, headers=DEMO_AUTH)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "LIVE_UNAVAILABLE"
    assert "/graphql/stream" in error["message"]
    assert (await emulator_admin.stats())["total"] == 0


async def test_a_keyless_stream_from_another_origin_never_gets_the_fallback_key(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    await emulator_admin.reset()
    foreign = SSE | {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    response = await http.post(f"{gateway}/graphql/stream", json={"query": EVENTS}, headers=foreign)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await emulator_admin.stats())["total"] == 0
    # A client outside a browser gets the fallback key, as on /graphql.
    async with http.stream("POST", f"{gateway}/graphql/stream", json={"query": EVENTS}, headers=SSE) as ok:
        _, first = await next_event(events(ok))
    assert first["data"]["events"]["totalCount"] > 0


async def test_a_quiet_stream_carries_keep_alive_comments(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(live_keepalive=0.05, live_interval=3600)
    async with http.stream(
        "POST", f"{gateway}/graphql/stream", json={"query": EVENTS}, headers=SSE | DEMO_AUTH
    ) as response:
        lines = response.aiter_lines()
        async with asyncio.timeout(PATIENCE):
            while (line := await anext(lines)) != ": ping":
                pass
    assert line == ": ping"


async def test_at_shutdown_a_stream_completes(emulator: RunningEmulator, http: httpx.AsyncClient) -> None:
    server = TestServer(create_app(Settings(upstream_url=emulator.api_url, live_interval=3600)), port=0)
    await server.start_server()
    gateway = str(server.make_url("")).rstrip("/")
    try:
        body = {"query": EVENTS}
        async with http.stream(
            "POST", f"{gateway}/graphql/stream", json=body, headers=SSE | DEMO_AUTH
        ) as response:
            stream = events(response)
            assert (await next_event(stream))[0] == "next"
            closing = asyncio.ensure_future(server.close())
            assert await next_event(stream) == ("complete", None)
            await closing
    finally:
        await server.close()


async def test_a_poll_reads_through_the_cache_and_files_what_it_read(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(live_interval=3600, cache_ttl=60, upstream_plan="on")
    async with http.stream(
        "POST", f"{gateway}/graphql/stream", json={"query": EVENTS}, headers=SSE | DEMO_AUTH
    ) as response:
        stream = events(response)
        name, first = await next_event(stream)
        assert name == "next"
        # The same lists asked as a query (another document: no whole answer to reuse) cost no call: the
        # poll filed every upstream answer it read.
        asked = await http.post(
            f"{gateway}/graphql",
            json={"query": "{ events(first: 3) { nodes { id title } } }"},
            headers=DEMO_AUTH | {"X-Upstream-Plan": "1"},
        )
    plan = asked.json()["extensions"]["upstream"]
    assert plan["totalCalls"] == 0
    assert plan["cacheHits"] >= 1
    assert asked.json()["data"]["events"]["nodes"] == first["data"]["events"]["nodes"]


async def test_a_polls_upstream_calls_are_counted_once(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(live_interval=3600, cache_ttl=0)
    await emulator_admin.reset()
    async with http.stream(
        "POST", f"{gateway}/graphql/stream", json={"query": EVENTS}, headers=SSE | DEMO_AUTH
    ) as response:
        name, _ = await next_event(events(response))
        assert name == "next"
    sent = (await emulator_admin.stats())["total"]
    assert sent > 0
    assert await metric(http, gateway, "events_gateway_upstream_calls_total") == sent
