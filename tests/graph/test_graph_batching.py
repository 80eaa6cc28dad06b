"""What a query costs upstream: calls and sequential rounds, counted by the emulator itself.

The emulator adds latency to every call, so its ``rounds`` counter (the longest chain of calls each
started after the previous one ended) is the number of dependent round trips the gateway made.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from events_gateway.upstream import STABLE_SORT, and_, exact, in_, sort

from ..conftest import EmulatorFactory
from .conftest import AdminFor, GatewayFor, Rest

C, E, P = 5, 20, 10
PAGE = 50
LATENCY_MS = 30

TREE = (
    """{ eventCategories { nodes { id events { nodes { id title properties { nodes { id title } } } } } } }"""
)


def _bound(categories: int, events: int, properties: int, page: int = PAGE) -> int:
    return 1 + math.ceil(categories * events / page) + math.ceil(categories * events * properties / page)


def _count(data: dict[str, Any]) -> tuple[int, int, int]:
    categories = data["eventCategories"]["nodes"]
    events = [e for c in categories for e in c["events"]["nodes"]]
    properties = [p for e in events for p in e["properties"]["nodes"]]
    return len(categories), len(events), len(properties)


async def test_level_by_level_the_whole_tree_costs_one_round_per_level(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    """Without reading ahead (test_planner.py), each level waits for its parents' ids, batched."""
    emulator = await emulator_factory(seed="scale", scale=(C, E, P), latency_ms=LATENCY_MS)
    gateway = gateway_for(emulator, plan_ahead=False)
    admin = admin_for(emulator)
    await admin.reset()

    data = await gateway.data(TREE)

    stats = await admin.stats()
    assert _count(data) == (C, C * E, C * E * P)
    assert stats["total"] <= _bound(C, E, P) < 1 + C + C * E
    assert stats["rounds"] == 3
    assert set(stats["by_route"]) == {"GET /resource/catalog"}
    assert len(gateway.contexts[-1].calls) == stats["total"]  # the context saw every call


async def test_the_per_parent_fallback_calls_each_parent_once_and_concurrently(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(3, 4, 2), latency_ms=LATENCY_MS)
    gateway = gateway_for(emulator, batching="per-parent")
    admin = admin_for(emulator)
    await admin.reset()

    data = await gateway.data(TREE)

    stats = await admin.stats()
    assert _count(data) == (3, 12, 24)
    assert stats["by_route"] == {
        "GET /event/category": 1,
        "GET /event/events": 3,
        "GET /event/event_properties": 12,
    }
    assert stats["rounds"] == 3


@pytest.mark.parametrize("batching", ["catalog", "per-parent"])
async def test_aliases_of_the_same_subtree_cost_no_extra_calls(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor, batching: str
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(3, 4, 2))
    gateway = gateway_for(emulator, batching=batching)
    admin = admin_for(emulator)
    await gateway.data(TREE)
    once = (await admin.stats())["total"]
    await admin.reset()

    data = await gateway.data(
        """{ a: eventCategories { nodes { events { nodes { properties { nodes { id } } } } } }
             b: eventCategories { nodes { events { nodes { properties { nodes { title } } } } } } }"""
    )

    assert (await admin.stats())["total"] == once
    ids = [
        p["id"] for c in data["a"]["nodes"] for e in c["events"]["nodes"] for p in e["properties"]["nodes"]
    ]
    titles = [
        p["title"] for c in data["b"]["nodes"] for e in c["events"]["nodes"] for p in e["properties"]["nodes"]
    ]
    assert len(ids) == len(titles) == 24


async def test_back_references_and_lookups_after_a_list_cost_no_call(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor, rest: Rest
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(2, 3, 2))
    gateway = gateway_for(emulator)
    admin = admin_for(emulator)
    await admin.reset()

    data = await gateway.data(
        """{ eventCategories { nodes { id events { nodes { id category { id title }
             properties { nodes { event { id category { id } } } } } } } } }"""
    )

    assert (await admin.stats())["total"] == 3  # one call per level; every back-reference was in the store
    for category in data["eventCategories"]["nodes"]:
        for event in category["events"]["nodes"]:
            assert event["category"]["id"] == category["id"]
            for prop in event["properties"]["nodes"]:
                assert prop["event"] == {"id": event["id"], "category": {"id": category["id"]}}


async def test_lookups_by_id_are_batched_into_one_call(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor, rest: Rest
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(2, 3, 2))
    gateway = gateway_for(emulator)
    admin = admin_for(emulator)
    events = await rest(emulator, "/event/events")
    await admin.reset()

    query = (
        "{ "
        + " ".join(
            f'e{i}: event(id: "{e["id"]}") {{ title category {{ title }} }}' for i, e in enumerate(events)
        )
        + " }"
    )
    data = await gateway.data(query)

    assert [data[f"e{i}"]["title"] for i in range(len(events))] == [e["title"] for e in events]
    assert (await admin.stats())["by_route"] == {
        "GET /resource/catalog": 2
    }  # the events, then their categories


async def test_long_parent_lists_are_chunked_under_the_url_limit(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(5, 3, 1))
    probe = gateway_for(emulator)
    session = probe.client.session("probe")
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(3)]

    def length(count: int) -> int:
        flt = and_(exact("type", "event"), in_("parent_id", ids[:count]))
        by_parent = sort("parent_id", "asc", STABLE_SORT)  # batched children come grouped by parent
        return session.resources_url_length(filter=flt, sort=by_parent, page=99_999)

    # two parent ids fit in a URL, three do not (and the level is not read ahead by type alone)
    gateway = gateway_for(emulator, max_url_bytes=length(2), plan_ahead=False)
    admin = admin_for(emulator)
    await admin.reset()

    data = await gateway.data("{ eventCategories { nodes { events { nodes { id } } } } }")

    assert sum(len(c["events"]["nodes"]) for c in data["eventCategories"]["nodes"]) == 15
    assert (await admin.stats())["total"] == 1 + math.ceil(5 / 2)
    assert {call.batch_size for call in gateway.contexts[-1].calls} >= {2, 1}


async def test_chunks_stay_under_the_catalog_cap(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor, rest: Rest
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(3, 20, 2), catalog_cap=30, page_size=10)
    gateway = gateway_for(emulator, catalog_cap=30, page_size_hint=10)

    data = await gateway.data(TREE)

    assert _count(data) == (3, 60, 120)
    every = [p["id"] for p in await rest(emulator, "/event/event_properties")]
    got = [
        p["id"]
        for c in data["eventCategories"]["nodes"]
        for e in c["events"]["nodes"]
        for p in e["properties"]["nodes"]
    ]
    assert sorted(got) == sorted(every)


async def test_title_filtered_children_of_many_parents_stay_under_the_cap(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    # Every event has a property titled property_0001: 60 matches, more than the cap of 30 allows at once.
    emulator = await emulator_factory(seed="scale", scale=(3, 20, 2), catalog_cap=30, page_size=10)
    gateway = gateway_for(emulator, catalog_cap=30, page_size_hint=10)

    data = await gateway.data(
        """{ eventCategories { nodes { events { nodes { id properties(title: "property_0001") {
             nodes { title event { id } } } } } } } }"""
    )

    events = [e for c in data["eventCategories"]["nodes"] for e in c["events"]["nodes"]]
    assert len(events) == 60
    for event in events:
        assert event["properties"]["nodes"] == [{"title": "property_0001", "event": {"id": event["id"]}}]


async def test_a_page_size_unlike_the_hint_still_reads_every_child(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(2, 9, 4), page_size=7)
    for hint in (3, 50):
        gateway = gateway_for(emulator, page_size_hint=hint)
        data = await gateway.data(TREE)
        assert _count(data) == (2, 18, 72)
