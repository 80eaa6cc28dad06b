"""Reading ahead against the real emulator: fewer rounds, the same answers, and the guards that keep it from
reading what no parent needs. The emulator adds latency to every call, so its ``rounds`` counter is the
number of sequential round trips; calls read by type alone carry no batch size (``batch_size``), those
batched by parent carry the number of parents.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.graph.lists import ListQuery
from events_gateway.upstream import CATEGORY

from ..conftest import EmulatorFactory
from .conftest import AdminFor, Gateway, GatewayFor

LATENCY_MS = 30
TREE = "{ eventCategories { nodes { id events { nodes { id title properties { nodes { id title } } } } } } }"

#: Documents whose answers must not change with reading ahead: whole trees, windows that cover a list or
#: not, cursors, filters, aliases, back-references, and a root list of each kind.
DOCUMENTS = [
    TREE,
    """{ eventCategories { totalCount pageInfo { hasNextPage } edges { cursor node { title
         events(first: 3) { totalCount pageInfo { endCursor } nodes { id category { id }
           properties(first: 2) { totalCount nodes { title type event { id } } } } } } } } }""",
    """{ eventCategories(first: 2) { nodes { events { nodes { properties { nodes { id } } } } } }
         rest: eventCategories(first: 3, after: "b2Zmc2V0OjE=") { nodes { events { nodes { id } } } } }""",
    """{ eventCategories { nodes { a: events(first: 1) { nodes { properties { nodes { id } } } }
         b: events(after: "b2Zmc2V0OjA=") { nodes { properties { totalCount } } }
         c: events { nodes { properties(first: 1, after: "b2Zmc2V0OjA=") { nodes { id } } } } } } }""",
    """{ eventCategories { nodes { events(title: "Signed Up") { nodes { properties { nodes { id } } } }
         all: events { nodes { named: properties(title: "plan") { nodes { id } } } } } } }""",
    """{ events { totalCount nodes { id properties { nodes { id title } } } }
         eventProperties(first: 7) { nodes { id event { title } } } }""",
    """query ($n: Int) { eventCategories(first: $n) { nodes { events(first: $n) { nodes {
         properties(first: $n) { nodes { id } } } } } } }""",
]


def _answer(result: Any) -> bytes:
    errors = [(error.message, error.path, error.extensions) for error in result.errors or ()]
    return orjson.dumps({"data": result.data, "errors": errors})


def _read_by_type(gateway: Gateway) -> int:
    """Catalog calls of the last request that carried no ``in`` filter: root pages and reads ahead."""
    return sum(1 for call in gateway.contexts[-1].calls if call.batch_size is None)


async def _same_answers(emulator: RunningEmulator, gateway_for: GatewayFor, **settings: Any) -> None:
    planned = gateway_for(emulator, **settings)
    unplanned = gateway_for(emulator, plan_ahead=False, **settings)
    for document in DOCUMENTS:
        for variables in ({"n": 2}, {"n": 500}, {}):
            expected = _answer(await unplanned.run(document, variables))
            assert _answer(await planned.run(document, variables)) == expected, document  # cold
            assert _answer(await planned.run(document, variables)) == expected, document  # remembered


async def test_planned_answers_equal_unplanned_ones_on_the_demo_data(
    emulator: RunningEmulator, gateway_for: GatewayFor
) -> None:
    await _same_answers(emulator, gateway_for)


@pytest.mark.parametrize(
    ("scale", "page_size"),
    [((7, 9, 4), 7), ((3, 20, 2), 10)],
    ids=["uneven-pages", "many-events"],
)
async def test_planned_answers_equal_unplanned_ones_on_a_scale_seed(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, scale: tuple[int, int, int], page_size: int
) -> None:
    emulator = await emulator_factory(seed="scale", scale=scale, page_size=page_size)
    await _same_answers(emulator, gateway_for, page_size_hint=page_size)


@pytest.mark.parametrize(
    ("scale", "page_size", "calls"),
    [((5, 20, 10), 50, 25), ((60, 5, 4), 50, None), ((3, 7, 3), 4, None)],
    ids=["5x20x10", "60x5x4", "small-pages"],
)
async def test_a_cold_tree_takes_two_rounds_and_a_repeated_one_takes_one(
    emulator_factory: EmulatorFactory,
    gateway_for: GatewayFor,
    admin_for: AdminFor,
    scale: tuple[int, int, int],
    page_size: int,
    calls: int | None,
) -> None:
    c, e, p = scale
    emulator = await emulator_factory(seed="scale", scale=scale, page_size=page_size, latency_ms=LATENCY_MS)
    gateway = gateway_for(emulator, page_size_hint=page_size)
    admin = admin_for(emulator)
    pages = math.ceil(c / page_size) + math.ceil(c * e / page_size) + math.ceil(c * e * p / page_size)

    await admin.reset()
    cold = await gateway.data(TREE)
    stats = await admin.stats()
    assert stats["rounds"] <= 2
    assert stats["total"] == pages <= (calls or pages)
    assert set(stats["by_route"]) == {"GET /resource/catalog"}
    assert _read_by_type(gateway) == stats["total"]  # no level waited for its parents' ids

    await admin.reset()
    again = await gateway.data(TREE)
    stats = await admin.stats()
    assert (stats["rounds"], stats["total"]) == (1, pages)  # every page of every level at once
    assert again == cold


async def test_per_parent_batching_never_reads_ahead(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(3, 4, 2), latency_ms=LATENCY_MS)
    gateway = gateway_for(emulator, batching="per-parent")
    admin = admin_for(emulator)
    for _ in range(2):  # cold, then with whatever a repeat could have remembered
        await admin.reset()
        await gateway.data(TREE)
        stats = await admin.stats()
        assert stats["by_route"] == {
            "GET /event/category": 1,
            "GET /event/events": 3,
            "GET /event/event_properties": 12,
        }
        assert stats["rounds"] == 3


async def test_a_window_that_leaves_categories_out_reads_per_parent(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    """Never every event to answer for one category: a cold request spends page 1 of the events by type,
    learns that the categories are not all there, and reads per parent; a repeated one reads nothing
    by type at all."""
    emulator = await emulator_factory(seed="scale", scale=(5, 20, 10), page_size=10, latency_ms=LATENCY_MS)
    gateway = gateway_for(emulator, page_size_hint=10)
    admin = admin_for(emulator)
    query = "{ eventCategories(first: 1) { nodes { events { nodes { id properties { nodes { id } } } } } } }"

    await admin.reset()
    cold = await gateway.data(query)
    per_parent = [call.batch_size for call in gateway.contexts[-1].calls if call.batch_size is not None]
    assert _read_by_type(gateway) == 1 + 2  # the category page, page 1 of events and of properties
    assert sum(1 for size in per_parent if size == 1) == 2  # the category's 20 events: two pages
    assert (await admin.stats())["total"] == 3 + 2 + 20  # and its 200 properties in twenty

    await admin.reset()
    again = await gateway.data(query)
    assert _read_by_type(gateway) == 1  # the remembered count rules the categories out before asking
    assert (await admin.stats())["total"] == 1 + 2 + 20
    assert again == cold


async def test_a_kind_over_the_cap_is_read_per_parent(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(3, 20, 2), catalog_cap=30, page_size=10)
    gateway = gateway_for(emulator, catalog_cap=30, page_size_hint=10)
    unplanned = gateway_for(emulator, catalog_cap=30, page_size_hint=10, plan_ahead=False)

    expected = await unplanned.data(TREE)
    assert await gateway.data(TREE) == expected  # 60 events, 120 properties: both over the cap of 30
    assert await gateway.data(TREE) == expected
    assert _read_by_type(gateway) == 1  # remembered: no page by type is asked for again


async def test_remembered_counts_stay_with_their_key(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor
) -> None:
    alpha, beta = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa", "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
    emulator = await emulator_factory(api_keys={alpha: "alpha", beta: "beta"}, seed="scale", scale=(2, 2, 1))
    gateway = gateway_for(emulator)

    await gateway.data(TREE, key=alpha)

    counts = gateway.client.list_counts
    assert counts.for_key(alpha).get(ListQuery(CATEGORY)) == 2
    assert counts.for_key(beta).get(ListQuery(CATEGORY)) is None
    assert counts.for_key(DEMO_API_KEY).get(ListQuery(CATEGORY)) is None
    await gateway.data(TREE, key=beta)
    assert _read_by_type(gateway) == 3  # beta's first request is cold: page 1 of each level, then the rest
