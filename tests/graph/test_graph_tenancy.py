"""Two callers with different keys (two workspaces) through one client never see each other's data."""

from __future__ import annotations

import asyncio
from typing import Any

from events_gateway.emulator import RunningEmulator

from ..conftest import EmulatorFactory
from .conftest import GatewayFor, Rest

ALPHA = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
BETA = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"

TREE = "{ eventCategories { nodes { id events { nodes { id properties { nodes { id } } } } } } }"


def _ids(data: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for category in data["eventCategories"]["nodes"]:
        ids.add(category["id"])
        for event in category["events"]["nodes"]:
            ids.add(event["id"])
            ids.update(p["id"] for p in event["properties"]["nodes"])
    return ids


async def _workspace_ids(emulator: RunningEmulator, rest: Rest, key: str) -> set[str]:
    ids: set[str] = set()
    for path in ("/event/category", "/event/events", "/event/event_properties"):
        ids.update(r["id"] for r in await rest(emulator, path, key=key))
    return ids


async def test_interleaved_concurrent_callers_see_only_their_workspace(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, rest: Rest
) -> None:
    emulator = await emulator_factory(api_keys={ALPHA: "alpha", BETA: "beta"}, latency_ms=5)
    gateway = gateway_for(emulator)  # one client, one pool, one schema for both callers
    expected = {
        ALPHA: await _workspace_ids(emulator, rest, ALPHA),
        BETA: await _workspace_ids(emulator, rest, BETA),
    }
    assert expected[ALPHA].isdisjoint(expected[BETA])

    keys = [ALPHA, BETA] * 4
    results = await asyncio.gather(
        *(gateway.data(TREE, key=key, request_id=f"r{n}") for n, key in enumerate(keys))
    )

    for key, data in zip(keys, results, strict=True):
        assert _ids(data) == expected[key]


async def test_a_lookup_of_another_workspace_id_finds_nothing(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, rest: Rest
) -> None:
    emulator = await emulator_factory(api_keys={ALPHA: "alpha", BETA: "beta"})
    gateway = gateway_for(emulator)
    theirs = (await rest(emulator, "/event/events", key=BETA))[0]["id"]
    # Warm a request of BETA first: nothing it loaded may serve ALPHA's request.
    assert (await gateway.data("query($id: ID!) { event(id: $id) { id } }", {"id": theirs}, key=BETA))[
        "event"
    ]
    result = await gateway.run("query($id: ID!) { event(id: $id) { id } }", {"id": theirs}, key=ALPHA)
    assert result.data == {"event": None}
    assert [(e.extensions or {}).get("code") for e in result.errors or ()] == ["NOT_FOUND"]


async def test_mutations_of_one_caller_do_not_touch_the_other(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, rest: Rest
) -> None:
    emulator = await emulator_factory(api_keys={ALPHA: "alpha", BETA: "beta"})
    gateway = gateway_for(emulator)
    before = await _workspace_ids(emulator, rest, BETA)
    event = (await rest(emulator, "/event/events", key=ALPHA))[0]
    await gateway.data(
        "mutation($id: ID!) { deleteEvent(id: $id) { deleted } }", {"id": event["id"]}, key=ALPHA
    )
    assert await _workspace_ids(emulator, rest, BETA) == before
