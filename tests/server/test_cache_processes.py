"""Two gateway processes, one Redis, one emulator: the cache shared as a deployment shares it.

Each gateway is ``events-gateway serve`` in a process of its own (nothing shared but Redis and the
upstream); the emulator's counters tell whether the upstream was asked. A tree warmed through one is a hit
through the other; a write through one shows through the other on the next request; with Redis killed
mid-traffic every answer stays right, and once it is back, hits resume; two keys never see each other's
entries, even with both processes serving both at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from events_gateway.emulator import EmulatorAdmin, RunningEmulator
from events_gateway.server import DEMO_QUERY

from ..conftest import clean_env, eventually
from ..redis_process import RedisServer
from ..test_cli import serve
from ..test_isolation import ALPHA, BETA, EVENTS, TREE, WORKSPACES, ids_in, workspace_ids
from .conftest import EmulatorFactory
from .test_cache_http import CATEGORY, FIRST_CATEGORY, RENAME, SAME_LISTS, ask

#: Requests of the two keys interleaved over the two processes, this many in flight.
MIXED_REQUESTS = 200
IN_FLIGHT = 20


async def gateways(
    stack: AsyncExitStack, emulator: RunningEmulator, redis: RedisServer, count: int
) -> list[str]:
    """``count`` gateway processes over ``emulator`` and ``redis``; their ``/graphql`` URLs' bases."""
    env = clean_env(
        EVENTS_API_URL=emulator.api_url,
        EVENTS_GATEWAY_REDIS_URL=redis.url,
        EVENTS_GATEWAY_UPSTREAM_PLAN="on",
        EVENTS_GATEWAY_LOG_LEVEL="ERROR",  # the test reads no log; a full pipe would stall the process
    )
    served = [await stack.enter_async_context(serve(env)) for _ in range(count)]
    return [process.graphiql_url.removesuffix("/graphql") for process in served]


@pytest.fixture
async def pair(emulator: RunningEmulator, redis_server: RedisServer) -> AsyncIterator[list[str]]:
    async with AsyncExitStack() as stack:
        yield await gateways(stack, emulator, redis_server, 2)


def category_of(body: dict[str, Any]) -> dict[str, Any]:
    category: dict[str, Any] = body["data"]["eventCategory"]
    return category


async def test_a_tree_warmed_through_one_process_is_a_hit_through_the_other(
    pair: list[str], http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    first, second = pair
    cold = await ask(http, first, DEMO_QUERY)
    await emulator_admin.reset()
    whole = await ask(http, second, DEMO_QUERY)
    parts = await ask(http, second, SAME_LISTS)

    assert (await emulator_admin.stats())["total"] == 0
    assert whole["data"] == cold["data"]
    assert whole["extensions"]["upstream"]["operationCache"]["status"] == "hit"
    assert parts["extensions"]["upstream"]["totalCalls"] == 0
    assert parts["extensions"]["upstream"]["cacheHits"] == cold["extensions"]["upstream"]["totalCalls"]


async def test_a_write_through_one_process_shows_through_the_other_on_the_next_request(
    pair: list[str], http: httpx.AsyncClient
) -> None:
    first, second = pair
    category_id = (await ask(http, first, FIRST_CATEGORY))["data"]["eventCategories"]["nodes"][0]["id"]
    before = category_of(await ask(http, second, CATEGORY, {"id": category_id}))
    await ask(http, first, CATEGORY, {"id": category_id})  # both processes hold it now

    created = await ask(
        http,
        first,
        'mutation($c: ID!) { createEvent(input: {title: "Made On A", categoryId: $c}) { id } }',
        {"c": category_id},
    )
    new_id = created["data"]["createEvent"]["id"]
    seen = category_of(await ask(http, second, CATEGORY, {"id": category_id}))
    assert new_id in [event["id"] for event in seen["events"]["nodes"]]
    assert seen["events"]["totalCount"] == before["events"]["totalCount"] + 1

    await ask(http, second, RENAME, {"e": new_id, "t": "Renamed On B"})
    renamed = category_of(await ask(http, first, CATEGORY, {"id": category_id}))
    assert {"id": new_id, "title": "Renamed On B"} in [
        {"id": event["id"], "title": event["title"]} for event in renamed["events"]["nodes"]
    ]

    await ask(http, first, "mutation($e: ID!) { deleteEvent(id: $e) { deleted } }", {"e": new_id})
    after = category_of(await ask(http, second, CATEGORY, {"id": category_id}))
    assert new_id not in [event["id"] for event in after["events"]["nodes"]]
    assert after["events"]["totalCount"] == before["events"]["totalCount"]


async def test_with_redis_killed_mid_traffic_answers_stay_right_and_hits_resume_when_it_is_back(
    pair: list[str], http: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    first, second = pair
    category_id = (await ask(http, first, FIRST_CATEGORY))["data"]["eventCategories"]["nodes"][0]["id"]
    event_id = category_of(await ask(http, first, CATEGORY, {"id": category_id}))["events"]["nodes"][0]["id"]

    async def title_through(gateway: str) -> str:
        events = category_of(await ask(http, gateway, CATEGORY, {"id": category_id}))["events"]["nodes"]
        return str(next(event["title"] for event in events if event["id"] == event_id))

    async def rename_and_check(title: str) -> None:
        writer, reader = random.sample(pair, 2)
        await ask(http, writer, RENAME, {"e": event_id, "t": title})
        seen = await asyncio.gather(*(title_through(gateway) for gateway in (reader, writer, reader)))
        assert seen == [title] * 3, title

    await rename_and_check("before the outage")
    traffic = asyncio.gather(*(title_through(gateway) for gateway in pair * 10))  # reads in flight...
    redis_server.kill()  # ...when Redis dies
    await traffic  # every one answered (``ask`` checks there was no error)
    for step in range(5):
        await rename_and_check(f"during the outage {step}")

    redis_server.start()  # back, empty

    async def hits_again() -> bool:
        await ask(http, second, SAME_LISTS)
        plan = (await ask(http, second, SAME_LISTS))["extensions"]["upstream"]
        return bool(plan.get("operationCache", {}).get("status") == "hit")

    await eventually(hits_again, "answers are served from the cache again once Redis is back")
    for step in range(3):
        await rename_and_check(f"after the outage {step}")


async def test_two_keys_never_see_each_others_entries_through_two_processes_at_once(
    emulator_factory: EmulatorFactory, redis_server: RedisServer, http: httpx.AsyncClient
) -> None:
    two_workspaces = await emulator_factory(api_keys=WORKSPACES)
    own = {key: await workspace_ids(http, two_workspaces, key) for key in WORKSPACES}
    assert not own[ALPHA] & own[BETA], "the seeds must differ for this test to mean anything"
    async with AsyncExitStack() as stack:
        processes = await gateways(stack, two_workspaces, redis_server, 2)
        warmed = await ask(http, processes[0], TREE, key=ALPHA)
        other = await ask(http, processes[1], TREE, key=BETA)  # the same document, the other key
        assert other["extensions"]["upstream"]["totalCalls"] > 0  # asked the upstream: no entry shared
        assert set(ids_in(warmed["data"])) <= own[ALPHA]
        assert set(ids_in(other["data"])) <= own[BETA]

        chooser = random.Random(20_250_101)
        limit = asyncio.Semaphore(IN_FLIGHT)
        documents = (TREE, EVENTS, FIRST_CATEGORY)

        async def one(index: int) -> tuple[str, dict[str, Any]]:
            key = ALPHA if index % 2 else BETA
            gateway = chooser.choice(processes)
            query = chooser.choice(documents)
            async with limit:
                if index % 3:
                    return key, await ask(http, gateway, query, key=key)
                response = await http.get(
                    f"{gateway}/graphql", params={"query": query}, headers={"Authorization": f"Bearer {key}"}
                )
                return key, response.json()

        answers = await asyncio.gather(*(one(index) for index in range(MIXED_REQUESTS)))
    for key, body in answers:
        assert "errors" not in body, body
        found = set(ids_in(body["data"]))
        assert found, body
        assert found <= own[key], f"{WORKSPACES[key]} was answered with another workspace's ids"
