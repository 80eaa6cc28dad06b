"""The request store's bookkeeping and the planner's batches: what a write changes in the lists already
loaded, and which counts plan which pages. Both are plain in-memory objects; the round trips they lead
to are measured in test_graph_batching.py."""

from __future__ import annotations

from typing import Any

from events_gateway.graph.lists import UNFILTERED, ListSpec
from events_gateway.graph.pagination import Window
from events_gateway.graph.planner import Depth, Planner, depths_of
from events_gateway.graph.selection import NestedList
from events_gateway.graph.store import RequestStore
from events_gateway.upstream import EVENT, EVENT_PROPERTY, and_, exact, in_

CATEGORY_ID = "00000000-0000-4000-8000-00000000000c"
OTHER_ID = "00000000-0000-4000-8000-00000000000d"


def _category(resource_id: str, children: int | None) -> dict[str, Any]:
    return {"id": resource_id, "entity_type": "event_category", "parent": None, "children_count": children}


def _event(number: int, title: str, parent: str = CATEGORY_ID) -> dict[str, Any]:
    return {"id": f"e-{number}", "entity_type": "event", "parent": parent, "title": title}


def test_a_created_child_joins_the_loaded_lists_its_spec_matches() -> None:
    store = RequestStore()
    store.remember(_category(CATEGORY_ID, 2))
    every = store.keep_children(EVENT, CATEGORY_ID, UNFILTERED, [_event(1, "a"), _event(2, "b")])
    named_a = store.keep_children(EVENT, CATEGORY_ID, ListSpec(title="a"), [_event(1, "a")])
    named_b = store.keep_children(EVENT, CATEGORY_ID, ListSpec(title="b"), [_event(2, "b")])

    store.created(_event(3, "a"))

    assert every == ["e-1", "e-2", "e-3"]
    assert named_a == ["e-1", "e-3"]
    assert named_b == ["e-2"]
    assert store.children_count(CATEGORY_ID) == 3


def test_a_deletion_leaves_lookups_lists_and_counts() -> None:
    store = RequestStore()
    store.remember(_category(CATEGORY_ID, 2))
    ids = store.keep_children(EVENT, CATEGORY_ID, UNFILTERED, [_event(1, "a"), _event(2, "b")])

    store.deleted_now("e-1")
    store.remember(_event(1, "a"))  # a later page that still carries it does not bring it back

    assert store.get("e-1") is None
    assert [resource["id"] for resource in store.resources(ids)] == ["e-2"]
    assert store.children_count(CATEGORY_ID) == 1
    assert store.keep_children(EVENT, CATEGORY_ID, UNFILTERED, [_event(1, "a"), _event(2, "b")]) == ["e-2"]


def test_the_planner_batches_by_spec_and_plans_pages_only_from_exact_counts() -> None:
    store = RequestStore()
    store.remember(_category(CATEGORY_ID, 20))
    named = ListSpec(title="a")
    keys = [(CATEGORY_ID, UNFILTERED), (OTHER_ID, named), (CATEGORY_ID, named), (OTHER_ID, UNFILTERED)]

    every, only_a = Planner(store).children(EVENT, keys)

    assert (every.spec, every.parents) == (UNFILTERED, [CATEGORY_ID, OTHER_ID])
    assert (only_a.spec, only_a.parents) == (named, [OTHER_ID, CATEGORY_ID])
    assert every.expected([CATEGORY_ID]) == 20
    assert every.expected([CATEGORY_ID, OTHER_ID]) is None  # the other category was never loaded
    assert only_a.expected([CATEGORY_ID]) is None  # a filter leaves children out: the count is no length
    assert only_a.bound(CATEGORY_ID) == 20  # but it still bounds the results, for the cap


def test_a_spec_is_one_filter_for_every_route() -> None:
    spec = ListSpec(title="Signed Up")
    scope = (exact("type", EVENT), in_("parent_id", [CATEGORY_ID]))

    assert spec.catalog_filter(*scope) == and_(*scope, exact("title", "Signed Up"))
    assert UNFILTERED.catalog_filter(*scope) == and_(*scope)
    assert spec.route_filters() == {"title": "Signed Up"}
    assert UNFILTERED.route_filters() == {"title": None}
    assert (spec.counts_apply, UNFILTERED.counts_apply) == (False, True)
    assert hash(spec) == hash(ListSpec(title="Signed Up"))


def _events(
    first: int, offset: int = 0, *, filtered: bool = False, below: tuple[NestedList, ...] = ()
) -> NestedList:
    return NestedList(EVENT, filtered, Window(offset, first), below)


def _properties(first: int = 100, offset: int = 0, *, filtered: bool = False) -> NestedList:
    return NestedList(EVENT_PROPERTY, filtered, Window(offset, first), ())


def test_the_levels_read_ahead_are_the_unfiltered_ones_in_a_row() -> None:
    assert depths_of([_events(10, below=(_properties(),))]) == [Depth(EVENT, 10), Depth(EVENT_PROPERTY, None)]
    assert depths_of([_events(10)]) == [Depth(EVENT, None)]
    # the widest window from the first child that leads further down sets the reach
    aliases = [_events(3, below=(_properties(),)), _events(50), _events(20, below=(_properties(),))]
    assert depths_of(aliases) == [Depth(EVENT, 20), Depth(EVENT_PROPERTY, None)]
    # a window past the first child leaves grandchildren out; a filtered level is no complete set
    assert depths_of([_events(10, 1, below=(_properties(),))]) == [Depth(EVENT, None)]
    assert depths_of([_events(10, filtered=True, below=(_properties(),))]) == []
    assert depths_of([_events(10, below=(_properties(filtered=True),))]) == [Depth(EVENT, None)]
    assert depths_of([NestedList(EVENT, False, None, (_properties(),))]) == []  # invalid arguments
