"""The mutation root: one field per write route of the upstream.

Inputs are checked before any call. Every result is remembered by the request's loaders, so a later
field of the same request reads it without a call; a deleted object is gone from later lookups and from
children lists already loaded.

After each successful write, the cache of upstream answers is told what changed, along the hierarchy
(``HIERARCHY.created`` / ``updated`` / ``deleted``, with the parent and grandparent where this request
knows them; unknown ones widen the invalidation): the caller's next request, on any worker or replica,
reads the change. Deleting an event also drops every cached property (the upstream deletes its
properties too).
"""

from __future__ import annotations

from typing import Any

import strawberry

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY, HIERARCHY, Resource
from .errors import InvalidInput
from .inputs import (
    CreateEventCategoryInput,
    CreateEventInput,
    CreateEventPropertyInput,
    UpdateEventInput,
    UpdateEventPropertyInput,
    check_id,
)
from .kinds import KIND_NAMES, kind_of
from .types import DeletePayload, Event, EventCategory, EventProperty, Info
from .writes import Change, Write, report_write


async def _inherit_integration(info: Info, body: dict[str, Any], kind: str, field: str) -> None:
    """A new child without an integration takes its parent's (the parent, of ``kind``, must exist)."""
    if "integration" in body:
        return
    parent = await info.context.loaders.by_id.load(body["parent"])
    if parent is None or kind_of(parent) != kind:
        raise InvalidInput(field, f"Must be the id of an existing {KIND_NAMES[kind]}.")
    integration = parent.get("integration")
    if isinstance(integration, str):
        body["integration"] = integration


def _remember(info: Info, resource: Resource) -> Resource:
    info.context.loaders.created(resource)
    _report("created", resource)
    return resource


def _report(change: Change, resource: Resource) -> None:
    """Tell whoever listens (live queries) what the upstream just confirmed writing."""
    kind, parent = kind_of(resource), resource.get("parent")
    if kind is not None and isinstance(resource.get("id"), str):
        report_write(Write(change, kind, resource["id"], parent if isinstance(parent, str) else None))


def _parent_of(info: Info, resource_id: str | None) -> str | None:
    """The parent id of an object this request has seen, else ``None`` (unknown)."""
    known = info.context.loaders.store.get(resource_id) if resource_id is not None else None
    parent = known.get("parent") if known is not None else None
    return parent if isinstance(parent, str) else None


async def _created(info: Info, kind: str, resource: Resource) -> None:
    parent_id = resource.get("parent") if isinstance(resource.get("parent"), str) else None
    scopes = HIERARCHY.created(
        kind, resource["id"], parent_id=parent_id, grandparent_id=_parent_of(info, parent_id)
    )
    await info.context.loaders.session.invalidate(scopes)


async def _updated(info: Info, kind: str, resource: Resource) -> None:
    parent_id = resource.get("parent") if isinstance(resource.get("parent"), str) else None
    await info.context.loaders.session.invalidate(
        HIERARCHY.updated(kind, resource["id"], parent_id=parent_id)
    )


async def _deleted(info: Info, kind: str, resource_id: str, parent_id: str | None) -> None:
    scopes = HIERARCHY.deleted(
        kind, resource_id, parent_id=parent_id, grandparent_id=_parent_of(info, parent_id)
    )
    await info.context.loaders.session.invalidate(scopes)


async def resolve_create_event_category(info: Info, input: CreateEventCategoryInput) -> EventCategory:
    body = input.to_body()
    resource = await info.context.loaders.session.create_event_category(body)
    await _created(info, CATEGORY, resource)
    return EventCategory.from_resource(_remember(info, resource))


async def resolve_create_event(info: Info, input: CreateEventInput) -> Event:
    body = input.to_body()
    session = info.context.loaders.session  # UNAUTHENTICATED before the parent is looked up
    await _inherit_integration(info, body, CATEGORY, "categoryId")
    resource = await session.create_event(body)
    await _created(info, EVENT, resource)
    return Event.from_resource(_remember(info, resource))


async def resolve_update_event(info: Info, id: strawberry.ID, input: UpdateEventInput) -> Event:
    event_id = check_id(id, "id")
    body = input.to_body()
    resource = await info.context.loaders.session.update_event(event_id, body)
    await _updated(info, EVENT, resource)
    info.context.loaders.updated(resource)
    _report("updated", resource)
    return Event.from_resource(resource)


async def resolve_delete_event(info: Info, id: strawberry.ID) -> DeletePayload:
    event_id = check_id(id, "id")
    parent_id = _parent_of(info, event_id)
    await info.context.loaders.session.delete_event(event_id)
    await _deleted(info, EVENT, event_id, parent_id)
    info.context.loaders.deleted_now(event_id)
    report_write(Write("deleted", EVENT, event_id, parent_id))
    return DeletePayload(id=strawberry.ID(event_id), deleted=True)


async def resolve_create_event_property(info: Info, input: CreateEventPropertyInput) -> EventProperty:
    body = input.to_body()
    session = info.context.loaders.session  # UNAUTHENTICATED before the parent is looked up
    await _inherit_integration(info, body, EVENT, "eventId")
    resource = await session.create_event_property(body)
    await _created(info, EVENT_PROPERTY, resource)
    return EventProperty.from_resource(_remember(info, resource))


async def resolve_update_event_property(
    info: Info, id: strawberry.ID, input: UpdateEventPropertyInput
) -> EventProperty:
    property_id = check_id(id, "id")
    body = input.to_body()
    resource = await info.context.loaders.session.update_event_property(property_id, body)
    await _updated(info, EVENT_PROPERTY, resource)
    info.context.loaders.updated(resource)
    _report("updated", resource)
    return EventProperty.from_resource(resource)


async def resolve_delete_event_property(info: Info, id: strawberry.ID) -> DeletePayload:
    property_id = check_id(id, "id")
    parent_id = _parent_of(info, property_id)
    await info.context.loaders.session.delete_event_property(property_id)
    await _deleted(info, EVENT_PROPERTY, property_id, parent_id)
    info.context.loaders.deleted_now(property_id)
    report_write(Write("deleted", EVENT_PROPERTY, property_id, parent_id))
    return DeletePayload(id=strawberry.ID(property_id), deleted=True)


@strawberry.type
class Mutation:
    create_event_category: EventCategory = strawberry.mutation(
        resolver=resolve_create_event_category, description="Create an event category under an integration."
    )
    create_event: Event = strawberry.mutation(
        resolver=resolve_create_event, description="Create an event in a category."
    )
    update_event: Event = strawberry.mutation(
        resolver=resolve_update_event, description="Change the given fields of an event."
    )
    delete_event: DeletePayload = strawberry.mutation(
        resolver=resolve_delete_event, description="Delete an event."
    )
    create_event_property: EventProperty = strawberry.mutation(
        resolver=resolve_create_event_property, description="Create a property of an event."
    )
    update_event_property: EventProperty = strawberry.mutation(
        resolver=resolve_update_event_property, description="Change the given fields of an event property."
    )
    delete_event_property: DeletePayload = strawberry.mutation(
        resolver=resolve_delete_event_property, description="Delete an event property."
    )
