"""The object types: event categories, events and event properties, nested both ways.

Scalar fields are plain dataclass fields with no resolver; an object built by ``from_resource`` reads each
one from the upstream's resource dict when it is first asked for (see ``_ReadOnDemand``). Only the fields
that walk the tree have resolvers, and those go through the request's loaders.

The nested connections (``EventCategory.events``, ``Event.properties``) and the back-references
(``Event.category``, ``EventProperty.event``) are nullable on purpose: when one branch's upstream call
fails, that branch alone becomes ``null`` with an error at its path, and the rest of the tree is still
answered. A non-null field would push the ``null`` up to the nearest nullable ancestor and throw away
every sibling already loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Final, Self

import strawberry
from strawberry.scalars import JSON
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

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


def _ids_of(name: str) -> Callable[[Resource], list[strawberry.ID]]:
    return lambda resource: _ids(resource.get(name))


def _of(convert: Callable[[Any], Any], name: str) -> Callable[[Resource], Any]:
    return lambda resource: convert(resource.get(name))


def _raw(name: str) -> Callable[[Resource], Any]:
    return lambda resource: resource.get(name)


#: How each scalar field every resource type shares is read from the upstream's resource dict.
_COMMON: Final[dict[str, Callable[[Resource], Any]]] = {
    "id": lambda resource: strawberry.ID(resource["id"]),
    "title": lambda resource: resource.get("title") or "",
    "title_full": _of(_str, "title_full"),
    "title_cased": _of(_str, "title_cased"),
    "description": _of(_str, "description"),
    "definition": _of(_str, "definition"),
    "definition_version": _of(_int, "definition_version"),
    "entity_type": _of(_str, "entity_type"),
    "native_type": _of(_str, "native_type"),
    "icon": _of(_str, "icon"),
    "url": _of(_str, "url"),
    "created_at": _of(_time, "created_at"),
    "updated_at": _of(_time, "updated_at"),
    "external_updated_at": _of(_time, "external_updated_at"),
    "multiplayer_last_modified": _of(_time, "multiplayer_last_modified"),
    "multiplayer_last_modified_by": _of(_id, "multiplayer_last_modified_by"),
    "bookmarked_by": _ids_of("bookmarked_by"),
    "multiplayers": _ids_of("multiplayers"),
    "owners": _ids_of("owners"),
    "owners_groups": _ids_of("owners_groups"),
    "collections": _ids_of("collections"),
    "tags": _ids_of("tags"),
    "teams": _ids_of("teams"),
    "subscribers": _ids_of("subscribers"),
    "sources": _ids_of("sources"),
    "workspace_id": _of(_id, "workspace_id"),
    "parent_id": _of(_id, "parent"),
    "integration_id": _of(_id, "integration"),
    "children_count": _of(_int, "children_count"),
    "total_usage": _of(_int, "total_usage"),
    "internal_usage": _of(_int, "internal_usage"),
    "external_usage": _of(_int, "external_usage"),
    "internal_users": _raw("internal_users"),
    "external_users": _raw("external_users"),
    "published": _of(_bool, "published"),
    "archived": _of(_bool, "archived"),
    "pii": _of(_bool, "pii"),
    "verified": _of(_bool, "verified"),
    "pristine": _of(_bool, "pristine"),
    "custom_properties": _raw("properties"),
    "databuilder_id": _of(_str, "databuilder_id"),
    "viewers_delta": _raw("viewers_delta"),
    "search_metadata": _raw("search_metadata"),
}
#: An event property's own scalar fields.
_PROPERTY: Final[dict[str, Callable[[Resource], Any]]] = {
    **_COMMON,
    "type": _of(_str, "type"),
    "is_required": _of(_bool, "is_required"),
    "enum_values": lambda resource: _str(resource.get("enum_values", resource.get("enum"))),
    "regex": _of(_str, "regex"),
    "is_array_type": _of(_bool, "is_array_type"),
}

_SOURCE: Final = "_resource"


class _ReadOnDemand:
    """Scalar fields read from the upstream dict when first asked for, then kept.

    A resource has some forty scalar fields and a query usually asks for a few: converting them all up
    front was most of the CPU of a large tree. ``from_resource`` keeps the dict alone; a field that is
    not yet in the instance falls through to ``__getattr__``, which converts it with the class's table.
    Objects built with their constructor (all fields given) never reach it.
    """

    _fields: ClassVar[Mapping[str, Callable[[Resource], Any]]] = _COMMON

    def __getattr__(self, name: str) -> Any:
        convert = type(self)._fields.get(name)
        state = self.__dict__
        if convert is None or _SOURCE not in state:
            raise AttributeError(name)
        value = state[name] = convert(state[_SOURCE])
        return value

    @classmethod
    def from_resource(cls, resource: Resource) -> Self:
        """The object for an upstream resource dict, whose fields are read as they are asked for."""
        instance = cls.__new__(cls)
        # ``id`` and ``title`` are asked for nearly always, and cheap: set now, they skip ``__getattr__``.
        instance.__dict__.update(
            {_SOURCE: resource, "id": resource["id"], "title": resource.get("title") or ""}
        )
        return instance


# Strawberry asks every object of a type that implements an interface whether it was ``strawberry.cast``;
# answered here, the question never reaches ``__getattr__`` (where a miss costs a raised AttributeError).
setattr(_ReadOnDemand, TYPE_CAST_ATTRIBUTE, None)


@strawberry.interface(
    name="Resource", description="What every catalog resource has (upstream field names, in camelCase)."
)
class Resource_(_ReadOnDemand):  # the trailing underscore keeps it apart from the upstream ``Resource`` dict
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


@strawberry.type(description="Something a product tracks; belongs to one category, has properties.")
class Event(Resource_):
    category: EventCategory | None = strawberry.field(
        resolver=_event_category, description="The category this event belongs to."
    )
    properties: Connection[EventProperty] | None = strawberry.field(
        resolver=_event_properties, description="The properties of this event, oldest first."
    )


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

    _fields: ClassVar[Mapping[str, Callable[[Resource], Any]]] = _PROPERTY


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
