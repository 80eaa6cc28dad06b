"""The object types: event categories, events and event properties, nested both ways.

Each scalar field is declared once, as an annotation with no resolver: ``read_on_demand`` (``_fields``)
turns it into a reader of the upstream's resource dict, keyed by its own name or by ``UPSTREAM_KEYS``, and
an object built by ``from_resource`` reads it when it is asked for. Only the fields that walk the tree
have resolvers, and those go through the request's loaders.

The nested connections (``EventCategory.events``, ``Event.properties``) and the back-references
(``Event.category``, ``EventProperty.event``) are nullable on purpose: when one branch's upstream call
fails, that branch alone becomes ``null`` with an error at its path, and the rest of the tree is still
answered. A non-null field would push the ``null`` up to the nearest nullable ancestor and throw away
every sibling already loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final, TypeVar

import strawberry
from strawberry.scalars import JSON

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY
from ..upstream import Resource as UpstreamResource
from ._fields import FromResource, Renames, read_on_demand
from .context import GraphContext
from .enums import PropertyType
from .kinds import kind_of
from .list_inputs import DeprecatedTitle, ListFilter, ListOrder, list_spec
from .pagination import Connection, Window, slice_connection

Info = strawberry.Info[GraphContext, None]
T = TypeVar("T")

#: The scalar fields whose upstream key is not their own (snake_case) name; every other scalar field
#: reads the key it is named after. ``enum_values`` falls back to ``enum``, an older upstream's name.
UPSTREAM_KEYS: Final[Renames] = {
    "parent_id": "parent",
    "integration_id": "integration",
    "custom_properties": "properties",
    "enum_values": ("enum_values", "enum"),
    "raw_type": "type",
}


@strawberry.interface(
    description=(
        "An object that `Query.node` finds again by its id (Relay's global object identification). "
        "Ids are the upstream's own, unique across event categories, events and event properties."
    )
)
class Node:
    id: strawberry.ID


@strawberry.interface(description="What every catalog resource has (upstream field names, in camelCase).")
class Resource(FromResource, Node):
    title: str
    title_full: str | None = strawberry.field(
        description="Titles of the ancestors and this one, joined by '.'."
    )
    title_cased: str | None
    description: str | None
    definition: str | None = strawberry.field(description="Documentation, in Markdown.")
    definition_version: int | None
    entity_type: str | None
    native_type: str | None
    icon: str | None
    url: str | None
    created_at: datetime | None
    updated_at: datetime | None
    external_updated_at: datetime | None
    multiplayer_last_modified: datetime | None
    multiplayer_last_modified_by: strawberry.ID | None
    bookmarked_by: list[strawberry.ID]
    multiplayers: list[strawberry.ID]
    owners: list[strawberry.ID] = strawberry.field(description="User ids.")
    owners_groups: list[strawberry.ID] = strawberry.field(description="Group ids.")
    collections: list[strawberry.ID]
    tags: list[strawberry.ID]
    teams: list[strawberry.ID]
    subscribers: list[strawberry.ID]
    sources: list[strawberry.ID]
    workspace_id: strawberry.ID | None
    parent_id: strawberry.ID | None = strawberry.field(description="The parent's id (upstream `parent`).")
    integration_id: strawberry.ID | None = strawberry.field(description="Upstream `integration`.")
    children_count: int | None
    total_usage: int | None
    internal_usage: int | None
    external_usage: int | None
    internal_users: JSON | None
    external_users: JSON | None
    published: bool | None
    archived: bool | None
    pii: bool | None
    verified: bool | None
    pristine: bool | None
    custom_properties: JSON | None = strawberry.field(
        description="Custom properties (upstream `properties`)."
    )
    databuilder_id: str | None
    viewers_delta: JSON | None
    search_metadata: JSON | None


async def _children(
    info: Info,
    kind: str,
    parent_id: strawberry.ID,
    build: Callable[[UpstreamResource], T],
    *,
    filter: ListFilter | None,
    order_by: list[ListOrder] | None,
    first: int | None,
    after: str | None,
    title: str | None,
) -> Connection[T]:
    """A nested list: the parent's children of ``kind`` (loaded whole, in batches across parents), kept
    and ordered as the arguments say, cut to their window."""
    spec = list_spec(filter, order_by, title=title)
    window = Window.from_args(first, after, info.context.settings, tag=spec.cursor_tag)
    children = await info.context.loaders.children(kind, str(parent_id), spec)
    return slice_connection(children, window, build)


async def _category_events(
    root: EventCategory,
    info: Info,
    filter: ListFilter | None = None,
    order_by: list[ListOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    title: DeprecatedTitle = None,
) -> Connection[Event] | None:
    return await _children(
        info,
        EVENT,
        root.id,
        Event.from_resource,
        filter=filter,
        order_by=order_by,
        first=first,
        after=after,
        title=title,
    )


async def _event_properties(
    root: Event,
    info: Info,
    filter: ListFilter | None = None,
    order_by: list[ListOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    title: DeprecatedTitle = None,
) -> Connection[EventProperty] | None:
    return await _children(
        info,
        EVENT_PROPERTY,
        root.id,
        EventProperty.from_resource,
        filter=filter,
        order_by=order_by,
        first=first,
        after=after,
        title=title,
    )


async def _event_category(root: Event, info: Info) -> EventCategory | None:
    resource = await _load_parent(info, root.parent_id, CATEGORY)
    return EventCategory.from_resource(resource) if resource is not None else None


async def _property_event(root: EventProperty, info: Info) -> Event | None:
    resource = await _load_parent(info, root.parent_id, EVENT)
    return Event.from_resource(resource) if resource is not None else None


async def _load_parent(info: Info, parent_id: strawberry.ID | None, kind: str) -> UpstreamResource | None:
    """A back-reference: the parent by id (usually already in the store), or ``None`` when it is gone."""
    if parent_id is None:
        return None
    resource = await info.context.loaders.by_id.load(str(parent_id))
    if resource is None or kind_of(resource) != kind:
        return None
    return resource


@strawberry.type(description="A group of events; the parent of events, under an integration.")
class EventCategory(Resource):
    events: Connection[Event] | None = strawberry.field(
        resolver=_category_events,
        description="The events of this category that `filter` keeps, in the order `orderBy` gives "
        "(oldest first without it).",
    )


@strawberry.type(description="Something a product tracks; belongs to one category, has properties.")
class Event(Resource):
    category: EventCategory | None = strawberry.field(
        resolver=_event_category, description="The category this event belongs to."
    )
    properties: Connection[EventProperty] | None = strawberry.field(
        resolver=_event_properties,
        description="The properties of this event that `filter` keeps, in the order `orderBy` gives "
        "(oldest first without it).",
    )


@strawberry.type(description="One attribute an event carries, with its data type and constraints.")
class EventProperty(Resource):
    type: PropertyType | None = strawberry.field(
        description="The property's data type; `OTHER` for one this API does not know (see `rawType`)."
    )
    raw_type: str | None = strawberry.field(description="The data type exactly as the upstream reports it.")
    is_required: bool | None
    enum_values: list[str] | None = strawberry.field(
        description="For an enum property, its allowed values; `null` when it has none."
    )
    regex: str | None
    is_array_type: bool | None
    event: Event | None = strawberry.field(
        resolver=_property_event, description="The event this property belongs to."
    )


read_on_demand(EventCategory, Event, EventProperty, renames=UPSTREAM_KEYS)


@strawberry.type(description="What a deletion did.")
class DeletePayload:
    id: strawberry.ID
    deleted: bool
