"""Live queries across gateways sharing one real Redis: one poll between them, writes on any of them push
to all, the poll moves when its gateway stops, and Redis trouble never starves a subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from events_gateway.emulator import EmulatorAdmin, RunningEmulator

from ..conftest import SCRIPT, clean_env, retitle_upstream
from ..redis_process import RedisServer
from .conftest import GatewayFactory
from .live_clients import DEMO_AUTH, PATIENCE, RawSocket, metric, wait_for_metric

EVENTS = "subscription Events { events(first: 3) { totalCount nodes { id title } } }"
RENAME = "mutation($id: ID!, $t: String!) { updateEvent(id: $id, input: {title: $t}) { id } }"


@contextlib.asynccontextmanager
async def serve(emulator: RunningEmulator, redis_url: str, **settings: str) -> AsyncIterator[str]:
    """``events-gateway serve`` as a process of its own; its base URL."""
    env = clean_env(
        EVENTS_API_URL=emulator.api_url,
        EVENTS_GATEWAY_REDIS_URL=redis_url,
        EVENTS_GATEWAY_LOG_LEVEL="WARNING",
        **{f"EVENTS_GATEWAY_{name.upper()}": value for name, value in settings.items()},
    )
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "serve",
        "--port",
        "0",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(PATIENCE):
            while not (match := re.search(rb"(http://\S+)/graphql", await process.stdout.readline())):
                pass
        yield match.group(1).decode()
    finally:
        process.terminate()
        await process.wait()


async def subscribed(socket: RawSocket, query: str = EVENTS) -> dict[str, Any]:
    await socket.init(DEMO_AUTH)
    await socket.subscribe("1", query)
    return await data_of(socket)


async def data_of(socket: RawSocket) -> dict[str, Any]:
    message = await socket.receive()
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]
    return data


async def rename(http: httpx.AsyncClient, gateway: str, event_id: str, title: str) -> None:
    response = await http.post(
        f"{gateway}/graphql",
        json={"query": RENAME, "variables": {"id": event_id, "t": title}},
        headers=DEMO_AUTH,
    )
    assert "errors" not in response.json(), response.json()


async def test_two_gateway_processes_poll_once_between_them(
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
    redis_server: RedisServer,
    http: httpx.AsyncClient,
) -> None:
    async with (
        serve(emulator, redis_server.url, live_interval="3600") as first,
        serve(emulator, redis_server.url, live_interval="3600") as second,
    ):
        await emulator_admin.reset()
        async with RawSocket(first) as one, RawSocket(second) as other:
            tree = await subscribed(one)
            assert await subscribed(other) == tree  # the first one's result, shared through Redis
            assert (await emulator_admin.stats())["by_route"] == {"GET /resource/catalog": 1}

            # A write through the gateway that does not poll re-runs the query where it is polled.
            event_id = tree["events"]["nodes"][0]["id"]
            await rename(http, second, event_id, "Renamed through the other gateway")
            for socket in (one, other):
                assert (await data_of(socket))["events"]["nodes"][0]["title"] == (
                    "Renamed through the other gateway"
                )
            assert (await emulator_admin.stats())["by_route"] == {
                "GET /resource/catalog": 2,
                "PATCH /event/events/{id}": 1,
            }
        polls = [
            await metric(http, gateway, "events_gateway_live_polls_total") for gateway in (first, second)
        ]
        assert sorted(polls) == [0, 2]


async def test_the_gateway_that_polls_leaves_and_another_takes_over(
    gateway_factory: GatewayFactory,
    emulator: RunningEmulator,
    redis_server: RedisServer,
    http: httpx.AsyncClient,
) -> None:
    first = await gateway_factory(redis_url=redis_server.url, live_interval=0.1)
    second = await gateway_factory(redis_url=redis_server.url, live_interval=0.1)
    async with RawSocket(second) as staying:
        async with RawSocket(first) as leaving:
            tree = await subscribed(leaving)
            await subscribed(staying)
            await wait_for_metric(http, first, "events_gateway_live_polls_total", lambda n: n >= 3)
            assert await metric(http, second, "events_gateway_live_polls_total") == 0
        # The first gateway's subscriber is gone: it gives up the lease, the second one polls now.
        await wait_for_metric(http, second, "events_gateway_live_polls_total", lambda n: n >= 1)
        await retitle_upstream(emulator, tree["events"]["nodes"][0]["id"], "Later")
        assert (await data_of(staying))["events"]["nodes"][0]["title"] == "Later"


async def test_with_redis_gone_each_gateway_polls_for_its_own_subscribers(
    gateway_factory: GatewayFactory,
    emulator: RunningEmulator,
    redis_server: RedisServer,
    http: httpx.AsyncClient,
) -> None:
    first = await gateway_factory(redis_url=redis_server.url, live_interval=0.1)
    second = await gateway_factory(redis_url=redis_server.url, live_interval=0.1)
    async with RawSocket(first) as one, RawSocket(second) as other:
        tree = await subscribed(one)
        await subscribed(other)
        redis_server.kill()
        # Both poll now; a change on the upstream reaches both subscribers.
        await wait_for_metric(http, second, "events_gateway_live_polls_total", lambda n: n >= 1)
        await retitle_upstream(emulator, tree["events"]["nodes"][0]["id"], "No Redis")
        for socket in (one, other):
            assert (await data_of(socket))["events"]["nodes"][0]["title"] == "No Redis"
