"""What a resource and an integration look like: kinds, the hierarchy, ids, timestamps and the wire shape.

The field list follows the upstream's resource object (categories, events and event properties are all
"resources"); fields the emulator has no behaviour for still appear, with neutral values, so clients that
read them see the shape they would upstream.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

CATEGORY: Final = "category"
EVENT: Final = "event"
EVENT_PROPERTY: Final = "event_property"

#: The kind a resource's parent must be (``None``: it has no parent).
PARENT_KIND: Final[dict[str, str | None]] = {CATEGORY: None, EVENT: CATEGORY, EVENT_PROPERTY: EVENT}

#: Namespace of every id the emulator derives (seed data, workspace ids), so runs repeat exactly.
ID_NAMESPACE: Final = uuid.UUID("5e0da0e7-7c1b-4f2e-9d4a-0b1c2d3e4f50")

TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"

#: uuid-list fields a client may write.
UUID_LIST_FIELDS: Final = ("teams", "owners", "owners_groups", "collections", "tags", "subscribers")
#: Free-text fields a client may write.
STRING_FIELDS: Final = ("description", "definition", "native_type", "title_cased", "icon", "url")
BOOLEAN_FIELDS: Final = ("pii", "verified", "published", "archived")
#: Extra fields of an event property, with their defaults.
PROPERTY_DEFAULTS: Final[dict[str, Any]] = {
    "type": "string",
    "is_required": False,
    "enum_values": "",
    "regex": "",
    "is_array_type": False,
}


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID from a hyphenated or bare-hex string (both are accepted upstream); ``None`` if not one."""
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(value: object) -> str | None:
    """``str(parse_uuid(value))``, without building a ``UUID`` when ``value`` is already in that form.

    Ids arrive canonical nearly always (they come from earlier answers), and a catalog filter can carry
    hundreds of them.
    """
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value
    parsed = parse_uuid(value)
    return None if parsed is None else str(parsed)


def derived_id(*parts: object) -> str:
    """A stable id for seeded objects: the same parts give the same id on every run and machine."""
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(str(part) for part in parts)))


@functools.lru_cache(maxsize=1024)
def workspace_id(workspace: str) -> str:
    """Cached: every rendered object carries it, and a uuid5 per object costs more than the rest of it."""
    return derived_id("workspace", workspace)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


class Clock:
    """Hands out UTC timestamps that strictly increase, so ``created_at`` orders objects without ties."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)

    def advance_past(self, stamp: str | None) -> None:
        """Never issue a timestamp at or before ``stamp`` (one already stored)."""
        if stamp:
            seen = datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
            self._last = max(self._last, seen)

    def now(self) -> str:
        moment = datetime.now(UTC)
        if moment <= self._last:
            moment = self._last + timedelta(microseconds=1)
        self._last = moment
        return format_timestamp(moment)


def default_data(kind: str) -> dict[str, Any]:
    """The fields kept in a resource's JSON document, at their defaults, for a new object of ``kind``."""
    data: dict[str, Any] = {
        "bookmarked_by": [],
        "icon": "",
        "title_cased": "",
        "description": "",
        "definition": "",
        "definition_version": 0,
        "multiplayers": [],
        "multiplayer_last_modified_by": None,
        "multiplayer_last_modified": None,
        "owners": [],
        "owners_groups": [],
        "collections": [],
        "tags": [],
        "teams": [],
        "subscribers": [],
        "total_usage": 0,
        "internal_usage": 0,
        "internal_users": [],
        "external_users": [],
        "published": False,
        "archived": False,
        "pii": False,
        "verified": False,
        "url": "",
        "properties": {},
        "external_updated_at": None,
        "databuilder_id": None,
        "viewers_delta": {},
        "search_metadata": {},
        "pristine": True,
        "sources": [],
    }
    if kind == EVENT_PROPERTY:
        data.update(PROPERTY_DEFAULTS)
    return data


def render_resource(
    *,
    row: dict[str, Any],
    data: dict[str, Any],
    workspace: str,
    children_count: int,
    ancestor_titles: list[str],
) -> dict[str, Any]:
    """The wire shape of one resource, from its stored columns and JSON document."""
    title_full = ".".join([*ancestor_titles, row["title"]])
    body: dict[str, Any] = {
        "id": row["id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "entity_type": row["entity_type"],
        "native_type": row["native_type"],
        "bookmarked_by": data["bookmarked_by"],
        "icon": data["icon"],
        "title": row["title"],
        "title_full": title_full,
        "title_cased": data["title_cased"] or row["title"],
        "description": data["description"],
        "definition": data["definition"],
        "definition_version": data["definition_version"],
        "multiplayers": data["multiplayers"],
        "multiplayer_last_modified_by": data["multiplayer_last_modified_by"],
        "multiplayer_last_modified": data["multiplayer_last_modified"],
        "owners": data["owners"],
        "owners_groups": data["owners_groups"],
        "collections": data["collections"],
        "tags": data["tags"],
        "teams": data["teams"],
        "subscribers": data["subscribers"],
        "workspace_id": workspace_id(workspace),
        "total_usage": data["total_usage"],
        "internal_usage": data["internal_usage"],
        "external_usage": row["external_usage"],
        "internal_users": data["internal_users"],
        "external_users": data["external_users"],
        "published": data["published"],
        "archived": data["archived"],
        "pii": data["pii"],
        "verified": data["verified"],
        "url": data["url"],
        "parent": row["parent_id"],
        "children_count": children_count,
        "integration": row["integration_id"],
        "properties": data["properties"],
        "external_updated_at": data["external_updated_at"],
        "databuilder_id": data["databuilder_id"],
        "viewers_delta": data["viewers_delta"],
        "search_metadata": data["search_metadata"],
        "pristine": data["pristine"],
        "sources": data["sources"],
    }
    if row["entity_type"] == EVENT_PROPERTY:
        for name, default in PROPERTY_DEFAULTS.items():
            body[name] = data.get(name, default)
    return body


def render_integration(row: dict[str, Any], workspace: str) -> dict[str, Any]:
    """The wire shape of one integration; ``credentials`` are never exposed."""
    return {
        "id": row["id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "name": row["name"],
        "type": row["type"],
        "workspace_id": workspace_id(workspace),
        "ssh_tunnel": None,
        "execute_access": [],
        "scheduled_extractions_hour": 0,
        "scheduled_extractions_frequency": 24,
        "scheduled_extractions_next_run": None,
        "scheduled_extractions_last_run": None,
        "properties": {},
        "preview_access_users": [],
        "preview_access_roles": ["Admin", "Editor"],
        "preview_access_groups": [],
        "teams": [],
    }
