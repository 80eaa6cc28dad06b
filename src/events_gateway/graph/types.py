"""The object types: event categories, events and event properties, nested both ways.

Scalar fields are plain dataclass fields filled once from the upstream's resource dict (``from_resource``),
so they cost no resolver call each; only the fields that walk the tree have resolvers, and those go
through the request's loaders.

The nested connections (``EventCategory.events``, ``Event.properties``) and the back-references
(``Event.category``, ``EventProperty.event``) are nullable on purpose: when one branch's upstream call
fails, that branch alone becomes ``null`` with an error at its path, and the rest of the tree is still
answered. A non-null field would push the ``null`` up to the nearest nullable ancestor and throw away
every sibling already loaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from ..upstream.client import Resource
from ..upstream.filters import CATEGORY, EVENT, EVENT_PROPERTY
from .context import GraphContext
from .loaders import kind_of
from .pagination import Connection, Window, slice_connection

Info = strawberry.Info[GraphContext, None]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _ids(value: Any) -> list[strawberry.ID]:
    return [strawberry.ID(str(item)) for item in value] if isinstance(value, list) else []


def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(value) if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _common(resource: Resource) -> dict[str, Any]:
    """The constructor arguments every resource type shares."""
    get = resource.get
    return {
        "id": strawberry.ID(resource["id"]),
        "title": get("title") or "",
        "title_full": _str(get("title_full")),
        "title_cased": _str(get("title_cased")),
        "description": _str(get("description")),
        "definition": _str(get("definition")),
        "definition_version": _int(get("definition_version")),
        "entity_type": _str(get("entity_type")),
        "native_type": _str(get("native_type")),
        "icon": _str(get("icon")),
        "url": _str(get("url")),
        "created_at": _time(get("created_at")),
        "updated_at": _time(get("updated_at")),
        "external_updated_at": _time(get("external_updated_at")),
        "multiplayer_last_modified": _time(get("multiplayer_last_modified")),
        "multiplayer_last_modified_by": _id(get("multiplayer_last_modified_by")),
        "bookmarked_by": _ids(get("bookmarked_by")),
        "multiplayers": _ids(get("multiplayers")),
        "owners": _ids(get("owners")),
        "owners_groups": _ids(get("owners_groups")),
        "collections": _ids(get("collections")),
        "tags": _ids(get("tags")),
        "teams": _ids(get("teams")),
        "subscribers": _ids(get("subscribers")),
        "sources": _ids(get("sources")),
        "workspace_id": _id(get("workspace_id")),
        "parent_id": _id(get("parent")),
        "integration_id": _id(get("integration")),
        "children_count": _int(get("children_count")),
        "total_usage": _int(get("total_usage")),
        "internal_usage": _int(get("internal_usage")),
        "external_usage": _int(get("external_usage")),
        "internal_users": get("internal_users"),
        "external_users": get("external_users"),
        "published": _bool(get("published")),
        "archived": _bool(get("archived")),
        "pii": _bool(get("pii")),
        "verified": _bool(get("verified")),
        "pristine": _bool(get("pristine")),
        "custom_properties": get("properties"),
        "databuilder_id": _str(get("databuilder_id")),
        "viewers_delta": get("viewers_delta"),
        "search_metadata": get("search_metadata"),
    }


@strawberry.interface(
    name="Resource", description="What every catalog resource has (upstream field names, in camelCase)."
)
class Resource_:  # the trailing underscore keeps it apart from the upstream ``Resource`` dict
    id: strawberry.ID
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


async def _category_events(
    root: EventCategory,
    info: Info,
    title: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[Event] | None:
    window = Window.from_args(first, after, info.context.settings)
    children = await info.context.loaders.children(EVENT, str(root.id), title)
    return slice_connection(children, window, Event.from_resource)


async def _event_properties(
    root: Event, info: Info, title: str | None = None, first: int | None = None, after: str | None = None
) -> Connection[EventProperty] | None:
    window = Window.from_args(first, after, info.context.settings)
    children = await info.context.loaders.children(EVENT_PROPERTY, str(root.id), title)
    return slice_connection(children, window, EventProperty.from_resource)


async def _event_category(root: Event, info: Info) -> EventCategory | None:
    resource = await _load_parent(info, root.parent_id, CATEGORY)
    return EventCategory.from_resource(resource) if resource is not None else None


async def _property_event(root: EventProperty, info: Info) -> Event | None:
    resource = await _load_parent(info, root.parent_id, EVENT)
    return Event.from_resource(resource) if resource is not None else None


async def _load_parent(info: Info, parent_id: strawberry.ID | None, kind: str) -> Resource | None:
    """A back-reference: the parent by id (usually already in the store), or ``None`` when it is gone."""
    if parent_id is None:
        return None
    resource = await info.context.loaders.by_id.load(str(parent_id))
    if resource is None or kind_of(resource) != kind:
        return None
    return resource


@strawberry.type(description="A group of events; the parent of events, under an integration.")
class EventCategory(Resource_):
    events: Connection[Event] | None = strawberry.field(
        resolver=_category_events, description="The events of this category, oldest first."
    )

    @classmethod
    def from_resource(cls, resource: Resource) -> EventCategory:
        return cls(**_common(resource))


@strawberry.type(description="Something a product tracks; belongs to one category, has properties.")
class Event(Resource_):
    category: EventCategory | None = strawberry.field(
        resolver=_event_category, description="The category this event belongs to."
    )
    properties: Connection[EventProperty] | None = strawberry.field(
        resolver=_event_properties, description="The properties of this event, oldest first."
    )

    @classmethod
    def from_resource(cls, resource: Resource) -> Event:
        return cls(**_common(resource))


@strawberry.type(description="One attribute an event carries, with its data type and constraints.")
class EventProperty(Resource_):
    type: str | None = strawberry.field(description="The property's data type (e.g. string, number, enum).")
    is_required: bool | None
    enum_values: str | None = strawberry.field(description="For an enum property, its allowed values.")
    regex: str | None
    is_array_type: bool | None
    event: Event | None = strawberry.field(
        resolver=_property_event, description="The event this property belongs to."
    )

    @classmethod
    def from_resource(cls, resource: Resource) -> EventProperty:
        get = resource.get
        return cls(
            **_common(resource),
            type=_str(get("type")),
            is_required=_bool(get("is_required")),
            enum_values=_str(get("enum_values", get("enum"))),
            regex=_str(get("regex")),
            is_array_type=_bool(get("is_array_type")),
        )


@strawberry.type(description="What a deletion did.")
class DeletePayload:
    id: strawberry.ID
    deleted: bool


ObjectType = EventCategory | Event | EventProperty
_TYPES: dict[str, type[EventCategory] | type[Event] | type[EventProperty]] = {
    CATEGORY: EventCategory,
    EVENT: Event,
    EVENT_PROPERTY: EventProperty,
}


def build(resource: Resource) -> ObjectType | None:
    """The object type for a resource of any of the three kinds; ``None`` for another kind."""
    kind = kind_of(resource)
    return _TYPES[kind].from_resource(resource) if kind is not None else None
