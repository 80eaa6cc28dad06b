"""Apollo Client with ``GraphQLWsLink`` (Node, ``clients/live/subscribe.mjs``) subscribes to the nested tree
of a real gateway: the query's answer first, then the tree a mutation through the gateway changed, then
the tree a change made on the upstream directly changed, and nothing between them."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import httpx

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator

from ..conftest import retitle_upstream
from .conftest import GatewayFactory
from .live_clients import DEMO_AUTH, PATIENCE, TREE, metric, wait_for_metric, ws_url

CREATE_EVENT = "mutation($c: ID!, $t: String!) { createEvent(input: {categoryId: $c, title: $t}) { id } }"
CLIENT = Path(__file__).resolve().parents[2] / "clients" / "live"


def without_typenames(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_typenames(item) for key, item in value.items() if key != "__typename"}
    if isinstance(value, list):
        return [without_typenames(item) for item in value]
    return value


async def read_line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    async with asyncio.timeout(PATIENCE):
        line = await process.stdout.readline()
    assert line, "the Apollo client ended without a result"
    parsed: dict[str, Any] = json.loads(line)
    return parsed


async def test_apollo_client_over_graphql_ws_gets_the_tree_and_each_change(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed (make setup installs the client in clients/live)"
    assert (CLIENT / "node_modules").is_dir(), "run `make setup` (npm ci --prefix clients/live)"
    gateway = await gateway_factory(live_interval=0.05)
    expected = await http.post(
        f"{gateway}/graphql", json={"query": TREE.replace("subscription ", "query ", 1)}, headers=DEMO_AUTH
    )
    process = await asyncio.create_subprocess_exec(
        node,
        str(CLIENT / "subscribe.mjs"),
        ws_url(gateway),
        DEMO_API_KEY,
        TREE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert await read_line(process) == {"ready": True}
        first = await read_line(process)
        # Apollo adds ``__typename`` to every selection (its cache needs it); otherwise the same tree.
        assert without_typenames(first) == {"data": expected.json()["data"]}

        category = first["data"]["eventCategories"]["nodes"][2]
        created = await http.post(
            f"{gateway}/graphql",
            json={
                "query": CREATE_EVENT,
                "variables": {"c": category["id"], "t": "From Apollo"},
            },
            headers=DEMO_AUTH,
        )
        assert "errors" not in created.json(), created.json()
        second = await read_line(process)
        titles = [e["title"] for e in second["data"]["eventCategories"]["nodes"][2]["events"]["nodes"]]
        assert "From Apollo" in titles

        await wait_for_metric(
            http, gateway, "events_gateway_live_polls_total", lambda n: n >= 3, changed="false"
        )
        event = category["events"]["nodes"][0]
        await retitle_upstream(emulator, event["id"], "Renamed upstream")
        third = await read_line(process)
        assert "Renamed upstream" in json.dumps(third)
        assert await metric(http, gateway, "events_gateway_live_pushes_total") == 3
    finally:
        if process.returncode is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                async with asyncio.timeout(PATIENCE):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
    await wait_for_metric(http, gateway, "events_gateway_live_subscriptions", lambda n: n == 0)
