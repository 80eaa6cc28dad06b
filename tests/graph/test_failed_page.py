"""A batched page that fails for good costs only the keys it could hold, against the real emulator.

The emulator's fault rules fail exactly one page of a batched level every time it is asked for
(``GET /resource/catalog`` with ``page=N``), after the transport's own retries. Batched children come
sorted by parent, so the pages around the failed one bound the parents it could hold: only those are asked
again through their own route, and every other parent's list is whole without a further call. When that
route fails too, those parents alone are ``null`` with an error.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TypeAlias

import pytest

from events_gateway.graph.batching import _sort_out
from events_gateway.upstream import UpstreamUnavailable

from ..conftest import EmulatorFactory
from .conftest import AdminFor, GatewayFor, Rest

PAGE = 10
#: One category, 20 events of 7 properties: 140 properties on 14 catalog pages of 10, so a page holds
#: parts of two or three events.
SCALE = (1, 20, 7)
CATALOG = "GET /resource/catalog"
PROPERTIES_ROUTE = "GET /event/event_properties"
#: The pages of a list as the paging engine hands them over: results, or a failure.
Parts: TypeAlias = list[list[dict[str, Any]] | Exception]

TREE = """
query Tree($order: [ListOrder!], $filter: ListFilter) {
  eventCategories { nodes { id events(first: 50) { nodes { id
    properties(first: 50, orderBy: $order, filter: $filter) { totalCount nodes { id title } }
  } } } }
}"""
#: An order of its own (within each parent), and a filter that keeps every property but makes the
#: parents' counts no longer the lists' lengths (so page 1 comes first, then the rest).
ORDERED = {"order": [{"field": "TITLE", "direction": "DESC"}]}
FILTERED = {**ORDERED, "filter": {"createdAfter": "2000-01-01T00:00:00Z"}}


def _failing(route: str, **params: str) -> dict[str, Any]:
    return {"route": route, "params": params, "fault": "500"}


async def _held(rest: Rest, emulator: Any, failed_page: int) -> list[str]:
    """The events a failed page of the properties level could hold, from the definition: the parents of
    the properties on it, and those of the last property before it and the first after it."""
    events = sorted(event["id"] for event in await rest(emulator, "/event/events"))
    properties = [
        event for event in events for _ in await rest(emulator, "/event/event_properties", parent_id=event)
    ]
    start, end = (failed_page - 1) * PAGE, failed_page * PAGE
    low, high = properties[max(start - 1, 0)], properties[min(end, len(properties) - 1)]
    return [event for event in events if low <= event <= high]


# Containment is measured level by level (``plan_ahead=False``): a level the planner reads ahead by type
# and sees fail falls back to these same batched levels, whose answers the differential test compares.


def _property_lists(data: Any) -> dict[str, Any]:
    return {
        event["id"]: event["properties"]
        for category in data["eventCategories"]["nodes"]
        for event in category["events"]["nodes"]
    }


@pytest.mark.parametrize("variables", [{}, ORDERED, FILTERED], ids=["stable", "ordered", "filtered"])
async def test_one_failed_page_costs_only_its_parents_per_parent_calls_and_the_answer_is_whole(
    emulator_factory: EmulatorFactory,
    gateway_for: GatewayFor,
    admin_for: AdminFor,
    rest: Rest,
    variables: dict[str, Any],
) -> None:
    failed_page = 3  # the events level has two pages: this one is the properties' alone
    emulator = await emulator_factory(seed="scale", scale=SCALE, page_size=PAGE)
    gateway, admin = gateway_for(emulator, page_size_hint=PAGE, plan_ahead=False), admin_for(emulator)
    held = await _held(rest, emulator, failed_page)
    await admin.reset()
    clean = await gateway.data(TREE, variables)
    clean_calls = Counter(call["route"] for call in (await admin.stats())["calls"] if call["status"] == 200)
    await admin.configure(fault_rules=[_failing(CATALOG, page=str(failed_page))])
    await admin.reset()

    answer = await gateway.data(TREE, variables)

    assert answer == clean  # every list whole, each in its own order: the held parents' came per parent
    calls = (await admin.stats())["calls"]
    answered = Counter(call["route"] for call in calls if call["status"] == 200)
    assert {call["route"] for call in calls if call["status"] != 200} == {CATALOG}  # the failed page alone
    assert answered[CATALOG] == clean_calls[CATALOG] - 1
    assert 2 <= len(held) <= 3
    assert answered[PROPERTIES_ROUTE] == len(held)  # one list of 7 (one page) per parent it could hold
    assert sum(answered.values()) == sum(clean_calls.values()) - 1 + len(held)


async def test_when_the_per_parent_route_fails_too_only_those_parents_are_null(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor, rest: Rest
) -> None:
    emulator = await emulator_factory(seed="scale", scale=SCALE, page_size=PAGE)
    gateway, admin = gateway_for(emulator, page_size_hint=PAGE, plan_ahead=False), admin_for(emulator)
    held = await _held(rest, emulator, 3)
    clean = _property_lists(await gateway.data(TREE))
    await admin.configure(fault_rules=[_failing(CATALOG, page="3"), _failing(PROPERTIES_ROUTE)])

    result = await gateway.run(TREE)

    lists = _property_lists(result.data)
    assert sorted(event for event, properties in lists.items() if properties is None) == held
    assert {event: lists[event] for event in lists if event not in held} == {
        event: clean[event] for event in clean if event not in held
    }
    errors = result.errors or []
    assert len(errors) == len(held)
    for error in errors:
        assert error.extensions == {"code": "UPSTREAM_UNAVAILABLE"}
        assert error.path is not None
        assert error.path[-1] == "properties"


async def test_two_failed_pages_in_a_row_widen_to_the_pages_around_both(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor, rest: Rest
) -> None:
    emulator = await emulator_factory(seed="scale", scale=SCALE, page_size=PAGE)
    gateway, admin = gateway_for(emulator, page_size_hint=PAGE, plan_ahead=False), admin_for(emulator)
    held = sorted({*await _held(rest, emulator, 3), *await _held(rest, emulator, 4)})
    await admin.configure(
        fault_rules=[_failing(CATALOG, page="3"), _failing(CATALOG, page="4"), _failing(PROPERTIES_ROUTE)]
    )

    result = await gateway.run(TREE)

    lists = _property_lists(result.data)
    assert sorted(event for event, properties in lists.items() if properties is None) == held
    assert len(result.errors or []) == len(held) < len(lists)


async def test_a_failed_page_of_lookups_asks_its_ids_again_one_by_one(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, admin_for: AdminFor, rest: Rest
) -> None:
    emulator = await emulator_factory(seed="scale", scale=SCALE, page_size=PAGE)
    gateway, admin = gateway_for(emulator, page_size_hint=PAGE, plan_ahead=False), admin_for(emulator)
    ids = [prop["id"] for prop in await rest(emulator, "/event/event_properties")][:30]
    unknown = "00000000-0000-4000-8000-000000000000"
    query = "query Many($ids: [ID!]!) { nodes(ids: $ids) { id ... on Resource { title } } }"
    variables = {"ids": [unknown, *ids]}
    clean = await gateway.data(query, variables)
    await admin.configure(fault_rules=[_failing(CATALOG, page="2")])
    await admin.reset()

    answer = await gateway.data(query, variables)

    assert answer == clean
    assert answer["nodes"][0] is None
    answered = Counter(call["route"] for call in (await admin.stats())["calls"] if call["status"] == 200)
    # lookups come in id order: the ten ids of page 2 alone are asked again, the unknown id is not
    assert answered == {CATALOG: 2, "GET /resource/all/{id}": PAGE}


def test_a_page_run_out_of_the_assumed_order_bounds_nothing() -> None:
    failure = UpstreamUnavailable("The upstream did not answer.")
    a, b, c, d = "a", "b", "c", "d"

    def child(parent: str) -> dict[str, Any]:
        return {"parent": parent}

    def key_of(resource: dict[str, Any]) -> object:
        return resource.get("parent")

    in_order: Parts = [[child(a), child(b)], failure, [child(c), child(d)]]
    found, held = _sort_out([a, b, c, d], in_order, key_of=key_of, spans_pages=True)
    assert (sorted(found), sorted(held)) == ([a, d], [b, c])

    out_of_order: Parts = [[child(b), child(a)], failure, [child(d)]]
    found, held = _sort_out([a, b, c, d], out_of_order, key_of=key_of, spans_pages=True)
    assert (found, sorted(held)) == ({}, [a, b, c, d])
    # one result per key (lookups): a key seen is whole wherever it is, the others are held
    found, held = _sort_out([a, b, c, d], out_of_order, key_of=key_of, spans_pages=False)
    assert (sorted(found), sorted(held)) == ([a, b, d], [c])
