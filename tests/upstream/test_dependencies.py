"""What each upstream read depends on, and that the writes of the tree invalidate exactly the reads they
change: a read is invalidated by a write when the scopes of both meet."""

from __future__ import annotations

import pytest

from events_gateway.upstream import (
    CATEGORY,
    EVENT,
    EVENT_PROPERTY,
    HIERARCHY,
    OPERATION_DEPS,
    and_,
    contains,
    exact,
    in_,
    not_,
    or_,
    read_deps,
)

C1, C2 = "c0000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"
E1, E2 = "e0000000-0000-4000-8000-000000000001", "e0000000-0000-4000-8000-000000000002"
P1 = "f0000000-0000-4000-8000-000000000001"


def catalog(*operands: dict[str, object]) -> tuple[str, ...]:
    return read_deps("GET /resource/catalog", catalog_filter=and_(*operands))


#: Reads, by what they are; each a tuple of scopes.
READS = {
    "every category": read_deps("GET /event/category"),
    "category c1": read_deps("GET /event/category/{id}", object_id=C1),
    "events of c1 (route)": read_deps("GET /event/events", parent_id=C1),
    "events of c1, c2 (catalog)": catalog(exact("type", EVENT), in_("parent_id", [C1, C2])),
    "events of c2 (catalog)": catalog(exact("type", EVENT), in_("parent_id", [C2])),
    "event e1": read_deps("GET /event/events/{id}", object_id=E1),
    "event e2": read_deps("GET /event/events/{id}", object_id=E2),
    "event e2 by id (catalog)": catalog(in_("id", [E2])),
    "any object e1 (resource route)": read_deps("GET /resource/all/{id}", object_id=E1),
    "every event": read_deps("GET /event/events"),
    "events titled (catalog)": catalog(exact("type", EVENT), contains("title", "sign")),
    "properties of e1 (catalog)": catalog(exact("type", EVENT_PROPERTY), in_("parent_id", [E1])),
    "properties of e2 (route)": read_deps("GET /event/event_properties", parent_id=E2),
}


@pytest.mark.parametrize(
    ("write", "changed", "unchanged"),
    [
        (
            HIERARCHY.created(EVENT, E2, parent_id=C1),
            {
                "every category",  # c1's count of events
                "category c1",
                "events of c1 (route)",
                "events of c1, c2 (catalog)",
                "every event",
                "events titled (catalog)",
            },
            {"events of c2 (catalog)", "event e1", "properties of e1 (catalog)", "properties of e2 (route)"},
        ),
        (
            HIERARCHY.updated(EVENT, E1, parent_id=C1),
            {
                "events of c1 (route)",
                "events of c1, c2 (catalog)",
                "event e1",
                "any object e1 (resource route)",
                "every event",
            },
            {"every category", "category c1", "events of c2 (catalog)", "event e2 by id (catalog)"},
        ),
        (
            HIERARCHY.deleted(EVENT, E1, parent_id=C1),
            # the upstream deletes the event's properties too: every property read goes (a lookup by id
            # of an unknown kind may be one of them)
            {
                "category c1",
                "events of c1 (route)",
                "event e1",
                "properties of e1 (catalog)",
                "event e2 by id (catalog)",
            },
            {"events of c2 (catalog)", "event e2"},
        ),
        (
            HIERARCHY.created(EVENT_PROPERTY, P1, parent_id=E1, grandparent_id=C1),
            {"event e1", "properties of e1 (catalog)", "events of c1 (route)", "every event"},
            {"properties of e2 (route)", "events of c2 (catalog)", "category c1", "every category"},
        ),
        (
            HIERARCHY.deleted(EVENT, E1),  # the parent is unknown: every list of events, every count
            {"events of c1 (route)", "events of c2 (catalog)", "category c1", "every category"},
            set(),
        ),
    ],
    ids=["create event", "update event", "delete event", "create property", "delete, parent unknown"],
)
def test_a_write_invalidates_the_reads_it_changes_and_no_other(
    write: tuple[str, ...], changed: set[str], unchanged: set[str]
) -> None:
    hit = {name for name, deps in READS.items() if set(deps) & set(write)}
    assert changed <= hit
    assert not unchanged & hit


def test_every_write_invalidates_a_whole_operation_answer() -> None:
    for write in (
        HIERARCHY.created(CATEGORY, C1),
        HIERARCHY.updated(EVENT, E1, parent_id=C1),
        HIERARCHY.updated(EVENT_PROPERTY, P1, parent_id=E1),
        HIERARCHY.deleted(EVENT_PROPERTY, P1),
    ):
        assert set(write) & set(OPERATION_DEPS)


@pytest.mark.parametrize(
    "catalog_filter",
    [
        or_(exact("type", EVENT), in_("parent_id", [C1])),  # a narrowing under ``or`` does not narrow
        and_(exact("type", EVENT), not_(in_("parent_id", [C1]))),
        and_(exact("type", EVENT), exact("type", CATEGORY)),  # contradictory: stay wide
        None,
    ],
)
def test_a_filter_it_cannot_read_depends_on_whole_lists(catalog_filter: dict[str, object] | None) -> None:
    deps = set(read_deps("GET /resource/catalog", catalog_filter=catalog_filter))
    assert set(HIERARCHY.list_deps(EVENT)) <= deps


def test_ids_are_read_as_the_writes_name_them() -> None:
    upper = read_deps("GET /event/events/{id}", object_id=E1.upper())
    assert upper == read_deps("GET /event/events/{id}", object_id=E1)
    assert set(upper) & set(HIERARCHY.updated(EVENT, E1, parent_id=C1))


def test_integrations_depend_on_no_write_and_unknown_routes_on_every_list() -> None:
    assert read_deps("GET /integration/integrations") == ()
    assert read_deps("GET /integration/integrations/{id}", object_id="x") == ()
    assert read_deps("GET /something/new") == OPERATION_DEPS
