"""The query root: top-level lists with filters, single lookups by id, and ``node``/``nodes`` for any kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY, Resource
from .errors import InvalidInput, MissingObject
from .inputs import check_id
from .kinds import KIND_NAMES, kind_of
from .list_inputs import (
    DeprecatedTitle,
    EventFilter,
    EventPropertyFilter,
    ListFilter,
    ListOrder,
    list_spec,
)
from .lists import ListQuery
from .pagination import Connection, Window, make_connection
from .selection import NestedList, selected_children
from .types import Event, EventCategory, EventProperty, Info, Node

T = TypeVar("T")

#: The object type of each kind, built from its upstream resource.
_BUILD: dict[str, Callable[[Resource], Node]] = {
    CATEGORY: EventCategory.from_resource,
    EVENT: Event.from_resource,
    EVENT_PROPERTY: EventProperty.from_resource,
}


async def _list(
    info: Info, query: ListQuery, first: int | None, after: str | None, build: Callable[[Resource], T]
) -> Connection[T]:
    settings, loaders = info.context.settings, info.context.loaders
    window = Window.from_args(first, after, settings, tag=query.spec.cursor_tag)
    nested: tuple[NestedList, ...] = ()
    if loaders.plans_ahead:
        # What the operation selects below this list, so the planner can read it ahead; Strawberry's
        # ``Info`` wraps graphql-core's, which holds the operation as the executor collects it.
        nested = selected_children(
            info._raw_info, default_first=settings.default_first, max_first=settings.max_first
        )
    resources, total = await loaders.list_window(query, window, nested)
    return make_connection(
        [build(resource) for resource in resources], offset=window.offset, total=total, tag=window.tag
    )


async def lookup(info: Info, kind: str, object_id: strawberry.ID) -> Resource | None:
    """One object by id: ``MissingObject`` (NOT_FOUND) when no object has the id, ``None`` when the id
    belongs to an object of another kind (asking for an event by a category's id finds no event, but it
    is not an error either)."""
    resource_id = check_id(object_id, "id")
    resource = await info.context.loaders.by_id.load(resource_id)
    if resource is None:
        raise MissingObject(KIND_NAMES[kind], resource_id)
    return resource if kind_of(resource) == kind else None


def _optional_id(value: strawberry.ID | None, field: str) -> str | None:
    return check_id(value, field) if value is not None else None


async def resolve_event_categories(
    info: Info,
    filter: ListFilter | None = None,
    order_by: list[ListOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    title: DeprecatedTitle = None,
) -> Connection[EventCategory]:
    query = ListQuery(CATEGORY, list_spec(filter, order_by, title=title))
    return await _list(info, query, first, after, EventCategory.from_resource)


async def resolve_event_category(info: Info, id: strawberry.ID) -> EventCategory | None:
    resource = await lookup(info, CATEGORY, id)
    return EventCategory.from_resource(resource) if resource is not None else None


async def resolve_events(
    info: Info,
    filter: EventFilter | None = None,
    order_by: list[ListOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[Event]:
    category_id = filter.category_id if filter is not None else None
    query = ListQuery(EVENT, list_spec(filter, order_by), parent_id=_optional_id(category_id, "categoryId"))
    return await _list(info, query, first, after, Event.from_resource)


async def resolve_event(info: Info, id: strawberry.ID) -> Event | None:
    resource = await lookup(info, EVENT, id)
    return Event.from_resource(resource) if resource is not None else None


async def resolve_event_properties(
    info: Info,
    filter: EventPropertyFilter | None = None,
    order_by: list[ListOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[EventProperty]:
    event_id = filter.event_id if filter is not None else None
    query = ListQuery(
        EVENT_PROPERTY, list_spec(filter, order_by), parent_id=_optional_id(event_id, "eventId")
    )
    return await _list(info, query, first, after, EventProperty.from_resource)


async def resolve_event_property(info: Info, id: strawberry.ID) -> EventProperty | None:
    resource = await lookup(info, EVENT_PROPERTY, id)
    return EventProperty.from_resource(resource) if resource is not None else None


async def resolve_nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    """The objects of ``ids``, in their order, loaded in one batch whatever their kinds; ``None`` for an
    id that names no event category, event or event property (a malformed id included, as Relay asks:
    a client may hold ids of objects deleted since)."""
    most = info.context.settings.max_first
    if len(ids) > most:
        raise InvalidInput("ids", f"At most {most} ids in one request.")
    wanted = [_canonical(value) for value in ids]
    keys = list(dict.fromkeys(key for key in wanted if key is not None))
    found = dict(zip(keys, await info.context.loaders.by_id.load_many(keys), strict=True))
    return [_node(found.get(key)) if key is not None else None for key in wanted]


def _node(resource: Resource | None) -> Node | None:
    if resource is None:
        return None
    build = _BUILD.get(kind_of(resource) or "")
    return build(resource) if build is not None else None


async def resolve_node(info: Info, id: strawberry.ID) -> Node | None:
    (node,) = await resolve_nodes(info, [id])
    return node


def _canonical(value: strawberry.ID) -> str | None:
    try:
        return check_id(value, "id")
    except InvalidInput:
        return None


_ONE = "`null` with NOT_FOUND when no object has the id; `null` alone when the id is of another kind."
_ORDER = "those `filter` keeps, in the order `orderBy` gives (oldest first without it)."


@strawberry.type
class Query:
    event_categories: Connection[EventCategory] = strawberry.field(
        resolver=resolve_event_categories, description=f"Event categories: {_ORDER}"
    )
    event_category: EventCategory | None = strawberry.field(
        resolver=resolve_event_category, description=f"One event category; {_ONE}"
    )
    events: Connection[Event] = strawberry.field(resolver=resolve_events, description=f"Events: {_ORDER}")
    event: Event | None = strawberry.field(resolver=resolve_event, description=f"One event; {_ONE}")
    event_properties: Connection[EventProperty] = strawberry.field(
        resolver=resolve_event_properties, description=f"Event properties: {_ORDER}"
    )
    event_property: EventProperty | None = strawberry.field(
        resolver=resolve_event_property, description=f"One event property; {_ONE}"
    )
    node: Node | None = strawberry.field(
        resolver=resolve_node,
        description="The object with this id, of any kind; `null` when no object has it (no error).",
    )
    nodes: list[Node | None] = strawberry.field(
        resolver=resolve_nodes,
        description=(
            "The objects with these ids, in their order, fetched together; `null` for an id no object has. "
            "At most as many ids as `first` may ask for (1000 by default)."
        ),
    )
