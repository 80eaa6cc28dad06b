"""The query root: top-level lists with filters, and single lookups by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY, Resource
from .errors import MissingObject
from .inputs import EventFilter, EventPropertyFilter, check_id
from .kinds import KIND_NAMES, kind_of
from .lists import ListQuery, ListSpec
from .pagination import Connection, Window, make_connection
from .selection import NestedList, selected_children
from .types import Event, EventCategory, EventProperty, Info

T = TypeVar("T")


async def _list(
    info: Info, query: ListQuery, first: int | None, after: str | None, build: Callable[[Resource], T]
) -> Connection[T]:
    settings, loaders = info.context.settings, info.context.loaders
    window = Window.from_args(first, after, settings)
    nested: tuple[NestedList, ...] = ()
    if loaders.plans_ahead:
        # What the operation selects below this list, so the planner can read it ahead; Strawberry's
        # ``Info`` wraps graphql-core's, which holds the operation as the executor collects it.
        nested = selected_children(
            info._raw_info, default_first=settings.default_first, max_first=settings.max_first
        )
    resources, total = await loaders.list_window(query, window, nested)
    return make_connection([build(resource) for resource in resources], offset=window.offset, total=total)


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
    info: Info, title: str | None = None, first: int | None = None, after: str | None = None
) -> Connection[EventCategory]:
    return await _list(
        info, ListQuery(CATEGORY, ListSpec(title=title)), first, after, EventCategory.from_resource
    )


async def resolve_event_category(info: Info, id: strawberry.ID) -> EventCategory | None:
    resource = await lookup(info, CATEGORY, id)
    return EventCategory.from_resource(resource) if resource is not None else None


async def resolve_events(
    info: Info, filter: EventFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[Event]:
    given = filter or EventFilter()
    query = ListQuery(
        EVENT,
        ListSpec(title=given.title),
        parent_id=_optional_id(given.category_id, "categoryId"),
        integration_id=_optional_id(given.integration_id, "integrationId"),
    )
    return await _list(info, query, first, after, Event.from_resource)


async def resolve_event(info: Info, id: strawberry.ID) -> Event | None:
    resource = await lookup(info, EVENT, id)
    return Event.from_resource(resource) if resource is not None else None


async def resolve_event_properties(
    info: Info, filter: EventPropertyFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[EventProperty]:
    given = filter or EventPropertyFilter()
    query = ListQuery(
        EVENT_PROPERTY,
        ListSpec(title=given.title),
        parent_id=_optional_id(given.event_id, "eventId"),
        integration_id=_optional_id(given.integration_id, "integrationId"),
    )
    return await _list(info, query, first, after, EventProperty.from_resource)


async def resolve_event_property(info: Info, id: strawberry.ID) -> EventProperty | None:
    resource = await lookup(info, EVENT_PROPERTY, id)
    return EventProperty.from_resource(resource) if resource is not None else None


_ONE = "`null` with NOT_FOUND when no object has the id; `null` alone when the id is of another kind."


@strawberry.type
class Query:
    event_categories: Connection[EventCategory] = strawberry.field(
        resolver=resolve_event_categories,
        description="Event categories, oldest first; `title` keeps those with exactly that title.",
    )
    event_category: EventCategory | None = strawberry.field(
        resolver=resolve_event_category, description=f"One event category; {_ONE}"
    )
    events: Connection[Event] = strawberry.field(resolver=resolve_events, description="Events, oldest first.")
    event: Event | None = strawberry.field(resolver=resolve_event, description=f"One event; {_ONE}")
    event_properties: Connection[EventProperty] = strawberry.field(
        resolver=resolve_event_properties, description="Event properties, oldest first."
    )
    event_property: EventProperty | None = strawberry.field(
        resolver=resolve_event_property, description=f"One event property; {_ONE}"
    )
