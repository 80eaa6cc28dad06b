"""The object types: event categories, events and event properties, nested both ways.

Scalar fields are plain dataclass fields with no resolver; an object built by ``from_resource`` reads each
one from the upstream's resource dict when it is asked for (see ``_ReadOnDemand``). Only the fields
that walk the tree have resolvers, and those go through the request's loaders.

The nested connections (``EventCategory.events``, ``Event.properties``) and the back-references
(``Event.category``, ``EventProperty.event``) are nullable on purpose: when one branch's upstream call
fails, that branch alone becomes ``null`` with an error at its path, and the rest of the tree is still
answered. A non-null field would push the ``null`` up to the nearest nullable ancestor and throw away
every sibling already loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, Self

import strawberry
from strawberry.scalars import JSON
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY, Resource
from .context import GraphContext
from .kinds import kind_of
from .list_inputs import TITLE_DEPRECATION, ListFilter, ListOrder, list_spec
from .pagination import Connection, Window, slice_connection

Info = strawberry.Info[GraphContext, None]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _ids(value: Any) -> list[str]:
    # ``strawberry.ID`` is a ``NewType``: an id is the ``str`` itself, so no call wraps each item.
    return [str(item) for item in value] if isinstance(value, list) else []


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _raw(value: Any) -> Any:
    return value


class _ReadOnDemand:
    """A scalar field read from the upstream dict each time it is asked for (a non-data descriptor).

    A resource has some forty scalar fields and a query usually asks for a few, once each: converting
    them all up front was most of the CPU of a large tree, and so was keeping each converted value in
    the instance. ``from_resource`` keeps the dict alone (in the ``_resource`` slot), and each scalar
    field of the class is one of these: a read converts the upstream value, a pure function of the dict.
    Objects built with their constructor (all fields given) never reach it: their own attributes come
    first. The common conversions are written out in their own subclasses, a call less on each of the
    tens of thousands of fields a large tree reads.
    """

    __slots__ = ("_convert", "_key", "_name")

    def __init__(self, name: str, key: str, convert: Callable[[Any], Any] = _raw) -> None:
        self._name = name
        self._key = key
        self._convert = convert

    def _resource(self, instance: _FromResource | None) -> Resource:
        """The instance's upstream dict; on the class, as for any dataclass field without a default,
        the attribute does not exist."""
        try:
            return instance._resource  # type: ignore[union-attr]  # None: read on the class
        except AttributeError:
            raise AttributeError(self._name) from None

    def __get__(self, instance: _FromResource | None, owner: type | None = None) -> Any:
        return self._convert(self._resource(instance).get(self._key))


class _Str(_ReadOnDemand):
    """A string field (``_str``, written out)."""

    __slots__ = ()

    def __get__(self, instance: _FromResource | None, owner: type | None = None) -> Any:
        try:
            value = instance._resource.get(self._key)  # type: ignore[union-attr]  # None: see _resource
        except AttributeError:
            raise AttributeError(self._name) from None
        return value if isinstance(value, str) else None


class _Bool(_ReadOnDemand):
    """A boolean field: ``True`` or ``False``, anything else ``None``."""

    __slots__ = ()

    def __get__(self, instance: _FromResource | None, owner: type | None = None) -> Any:
        try:
            value = instance._resource.get(self._key)  # type: ignore[union-attr]  # None: see _resource
        except AttributeError:
            raise AttributeError(self._name) from None
        return value if value is True or value is False else None


class _Time(_ReadOnDemand):
    """A date-time field (``_time``, written out for the usual case: a non-empty ``str``)."""

    __slots__ = ()

    def __get__(self, instance: _FromResource | None, owner: type | None = None) -> Any:
        try:
            value = instance._resource.get(self._key)  # type: ignore[union-attr]  # None: see _resource
        except AttributeError:
            raise AttributeError(self._name) from None
        if value.__class__ is not str or not value:
            return _time(value)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None


class _EnumValues(_ReadOnDemand):
    """``enum_values``, which an older upstream names ``enum``."""

    __slots__ = ()

    def __get__(self, instance: _FromResource | None, owner: type | None = None) -> Any:
        resource = self._resource(instance)
        return _str(resource.get("enum_values", resource.get("enum")))


#: The descriptor of each scalar field every resource type shares, by field name (``id`` and ``title``
#: are set when an object is built: see ``from_resource``).
_COMMON: Final[tuple[_ReadOnDemand, ...]] = (
    _Str("title_full", "title_full"),
    _Str("title_cased", "title_cased"),
    _Str("description", "description"),
    _Str("definition", "definition"),
    _ReadOnDemand("definition_version", "definition_version", _int),
    _Str("entity_type", "entity_type"),
    _Str("native_type", "native_type"),
    _Str("icon", "icon"),
    _Str("url", "url"),
    _Time("created_at", "created_at"),
    _Time("updated_at", "updated_at"),
    _Time("external_updated_at", "external_updated_at"),
    _Time("multiplayer_last_modified", "multiplayer_last_modified"),
    _ReadOnDemand("multiplayer_last_modified_by", "multiplayer_last_modified_by", _id),
    _ReadOnDemand("bookmarked_by", "bookmarked_by", _ids),
    _ReadOnDemand("multiplayers", "multiplayers", _ids),
    _ReadOnDemand("owners", "owners", _ids),
    _ReadOnDemand("owners_groups", "owners_groups", _ids),
    _ReadOnDemand("collections", "collections", _ids),
    _ReadOnDemand("tags", "tags", _ids),
    _ReadOnDemand("teams", "teams", _ids),
    _ReadOnDemand("subscribers", "subscribers", _ids),
    _ReadOnDemand("sources", "sources", _ids),
    _ReadOnDemand("workspace_id", "workspace_id", _id),
    _ReadOnDemand("parent_id", "parent", _id),
    _ReadOnDemand("integration_id", "integration", _id),
    _ReadOnDemand("children_count", "children_count", _int),
    _ReadOnDemand("total_usage", "total_usage", _int),
    _ReadOnDemand("internal_usage", "internal_usage", _int),
    _ReadOnDemand("external_usage", "external_usage", _int),
    _ReadOnDemand("internal_users", "internal_users"),
    _ReadOnDemand("external_users", "external_users"),
    _Bool("published", "published"),
    _Bool("archived", "archived"),
    _Bool("pii", "pii"),
    _Bool("verified", "verified"),
    _Bool("pristine", "pristine"),
    _ReadOnDemand("custom_properties", "properties"),
    _Str("databuilder_id", "databuilder_id"),
    _ReadOnDemand("viewers_delta", "viewers_delta"),
    _ReadOnDemand("search_metadata", "search_metadata"),
)
#: An event property's own scalar fields.
_PROPERTY: Final[tuple[_ReadOnDemand, ...]] = (
    _Str("type", "type"),
    _Bool("is_required", "is_required"),
    _EnumValues("enum_values", "enum_values"),
    _Str("regex", "regex"),
    _Bool("is_array_type", "is_array_type"),
)


class _FromResource:
    """Builds an object type from an upstream resource dict (see ``_ReadOnDemand``)."""

    # The upstream dict of an object built by ``from_resource``; the subclasses keep their ``__dict__``.
    __slots__ = ("__dict__", "_resource")

    if TYPE_CHECKING:
        _resource: Resource

    @classmethod
    def from_resource(cls, resource: Resource) -> Self:
        """The object for an upstream resource dict, whose fields are read as they are asked for."""
        instance = object.__new__(cls)
        instance._resource = resource
        # ``id`` and ``title`` are asked for nearly always, and cheap: set now, they skip the descriptors.
        instance.__dict__ = {"id": resource["id"], "title": resource.get("title") or ""}
        return instance


def _read_on_demand(cls: type, fields: tuple[_ReadOnDemand, ...]) -> None:
    """Installs each of ``fields`` on a decorated object type (the dataclass machinery has removed its
    field placeholders from the class by then)."""
    for field in fields:
        setattr(cls, field._name, field)


# Strawberry asks every object of a type that implements an interface whether it was ``strawberry.cast``;
# answered here, the question never becomes a failed attribute lookup.
setattr(_FromResource, TYPE_CAST_ATTRIBUTE, None)


@strawberry.interface(
    name="Resource", description="What every catalog resource has (upstream field names, in camelCase)."
)
class Resource_(_FromResource):  # the trailing underscore keeps it apart from the upstream ``Resource`` dict
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
    filter: ListFilter | None = None,
    order_by: list[ListOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    title: Annotated[str | None, strawberry.argument(deprecation_reason=TITLE_DEPRECATION)] = None,
) -> Connection[Event] | None:
    spec = list_spec(filter, order_by, title=title)
    window = Window.from_args(first, after, info.context.settings, tag=spec.cursor_tag)
    children = await info.context.loaders.children(EVENT, str(root.id), spec)
    return slice_connection(children, window, Event.from_resource)


async def _event_properties(
    root: Event,
    info: Info,
    filter: ListFilter | None = None,
    order_by: list[ListOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    title: Annotated[str | None, strawberry.argument(deprecation_reason=TITLE_DEPRECATION)] = None,
) -> Connection[EventProperty] | None:
    spec = list_spec(filter, order_by, title=title)
    window = Window.from_args(first, after, info.context.settings, tag=spec.cursor_tag)
    children = await info.context.loaders.children(EVENT_PROPERTY, str(root.id), spec)
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
        resolver=_category_events,
        description="The events of this category that `filter` keeps, in the order `orderBy` gives "
        "(oldest first without it).",
    )


@strawberry.type(description="Something a product tracks; belongs to one category, has properties.")
class Event(Resource_):
    category: EventCategory | None = strawberry.field(
        resolver=_event_category, description="The category this event belongs to."
    )
    properties: Connection[EventProperty] | None = strawberry.field(
        resolver=_event_properties,
        description="The properties of this event that `filter` keeps, in the order `orderBy` gives "
        "(oldest first without it).",
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


_read_on_demand(Resource_, _COMMON)
_read_on_demand(EventProperty, _PROPERTY)


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
