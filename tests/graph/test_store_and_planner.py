"""The request store's bookkeeping and the planner's batches: what a write changes in the lists already
loaded, and which counts plan which pages. Both are plain in-memory objects; the round trips they lead
to are measured in test_graph_batching.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events_gateway.graph.list_inputs import ListFilter
from events_gateway.graph.lists import FILTERS, UNFILTERED, ListSpec, OrderKey
from events_gateway.graph.pagination import Window
from events_gateway.graph.planner import Depth, Planner, depths_of
from events_gateway.graph.selection import NestedList
from events_gateway.graph.store import RequestStore
from events_gateway.upstream import CATEGORY, EVENT, EVENT_PROPERTY, and_, contains, exact, gt, in_, lt, sort

CATEGORY_ID = "00000000-0000-4000-8000-00000000000c"
OTHER_ID = "00000000-0000-4000-8000-00000000000d"


def _category(resource_id: str, children: int | None) -> dict[str, Any]:
    return {"id": resource_id, "entity_type": "event_category", "parent": None, "children_count": children}


def _event(number: int, title: str, parent: str = CATEGORY_ID, stamp: str = "01") -> dict[str, Any]:
    return {
        "id": f"e-{number}",
        "entity_type": "event",
        "parent": parent,
        "title": title,
        "created_at": f"2024-01-{stamp}T00:00:00.000000Z",
        "verified": False,
    }


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
    assert spec.route_filters() == {"title": "Signed Up", "integration_id": None}
    assert UNFILTERED.route_filters() == {"title": None, "integration_id": None}
    assert (spec.counts_apply, UNFILTERED.counts_apply) == (False, True)
    assert hash(spec) == hash(ListSpec(title="Signed Up"))


def test_a_changed_child_moves_in_and_out_of_the_loaded_lists() -> None:
    store = RequestStore()
    first, second = _event(1, "b", stamp="01"), _event(2, "c", stamp="02")
    by_title = ListSpec(order=(OrderKey("title"),))
    verified = ListSpec(verified=True)
    every = store.keep_children(EVENT, CATEGORY_ID, UNFILTERED, [first, second])
    titled = store.keep_children(EVENT, CATEGORY_ID, by_title, [first, second])
    checked = store.keep_children(EVENT, CATEGORY_ID, verified, [])

    store.updated({**second, "title": "a", "verified": True})
    assert (every, titled, checked) == (["e-1", "e-2"], ["e-2", "e-1"], ["e-2"])

    store.updated({**second, "title": "d", "verified": False})
    assert (every, titled, checked) == (["e-1", "e-2"], ["e-1", "e-2"], [])

    store.created(_event(3, "a", stamp="03"))
    assert (every, titled, checked) == (["e-1", "e-2", "e-3"], ["e-3", "e-1", "e-2"], [])


def test_a_spec_is_one_filter_and_sort_for_every_field() -> None:
    moment = datetime(2024, 5, 1, 12, tzinfo=UTC)
    spec = ListSpec(
        title="t",
        title_contains="x",
        description_contains="y",
        pii=True,
        verified=False,
        published=True,
        tag="tag",
        owner="owner",
        team="team",
        integration_id="integration",
        created_after=moment,
        created_before=moment,
        updated_after=moment,
        updated_before=moment,
        order=(OrderKey("updated_at", descending=True), OrderKey("title")),
    )
    stamp = "2024-05-01T12:00:00.000000Z"

    assert spec.catalog_filter() == and_(
        exact("title", "t"),
        contains("title", "x"),
        contains("description", "y"),
        exact("pii", True),
        exact("verified", False),
        exact("published", True),
        in_("tags", ["tag"]),
        in_("owners", ["owner"]),
        in_("teams", ["team"]),
        exact("integration_id", "integration"),
        gt("created_at", stamp),
        lt("created_at", stamp),
        gt("updated_at", stamp),
        lt("updated_at", stamp),
    )
    assert spec.catalog_sort() == sort("updated_at", "desc", sort("title", "asc", sort("id", "asc")))
    assert ListSpec(order=(OrderKey("title"),)).counts_apply  # an order keeps every child
    assert not ListSpec(pii=False).counts_apply
    assert ListSpec(title="t", integration_id="i").route_serves(EVENT)
    assert not ListSpec(title="t", integration_id="i").route_serves(CATEGORY)
    assert not ListSpec(order=(OrderKey("title"),)).route_serves(EVENT)
    assert UNFILTERED.cursor_tag == ""
    assert spec.cursor_tag == ListSpec(**{**_fields(spec)}).cursor_tag != ListSpec(pii=True).cursor_tag


def _fields(spec: ListSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}


def test_every_filter_of_the_table_is_a_spec_field_and_an_input_field() -> None:
    names = {filter_field.name for filter_field in FILTERS}
    assert names | {"order"} == set(ListSpec.__dataclass_fields__)
    inputs = {field.python_name for field in ListFilter.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    assert inputs == names


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
