"""Input types, and the checks that run on them before any upstream call.

Each check raises ``InvalidInput`` naming the field as the client wrote it (``BAD_USER_INPUT``), so a
form can put the message next to the right box. Bodies carry only the fields the client gave: an update
built from ``strawberry.Maybe`` fields sends nothing for an absent field, and an explicit ``null`` on a
text or list field clears it (sent as ``""`` or ``[]``, the upstream's empty values). Each kind has its
own update input with only the fields it has, so a client's types refuse a property's field on an event.

``enumValues`` is a list of strings in the schema and one comma-separated string upstream; the list is
encoded here, and read back in ``_fields``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Final, TypeVar

import strawberry

from .enums import PropertyType
from .errors import InvalidInput

_T = TypeVar("_T")

#: Input field (GraphQL name) → upstream body field, for the fields every resource may carry.
_ID_LISTS: Final = {
    "teams": "teams",
    "owners": "owners",
    "ownersGroups": "owners_groups",
    "collections": "collections",
    "tags": "tags",
    "subscribers": "subscribers",
}
_TEXTS: Final = {"description": "description", "definition": "definition"}
_FLAGS: Final = {"pii": "pii", "verified": "verified", "published": "published"}


def check_id(value: str, field: str) -> str:
    """A hyphenated lower-case UUID from a hyphenated or bare-hex id; ``InvalidInput`` otherwise."""
    try:
        return str(uuid.UUID(str(value).strip()))
    except ValueError:
        raise InvalidInput(field, "Must be a UUID, e.g. 3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f.") from None


def check_ids(values: list[strawberry.ID], field: str) -> list[str]:
    return [check_id(value, field) for value in values]


def check_title(value: str, field: str = "title") -> str:
    title = value.strip()
    if not title:
        raise InvalidInput(field, "Must not be empty.")
    return title


def check_property_type(value: PropertyType, field: str = "type") -> str:
    """The upstream's spelling of a data type; ``OTHER`` only ever reports one this API does not know."""
    if value is PropertyType.OTHER:
        known = ", ".join(member.name for member in PropertyType if member is not PropertyType.OTHER)
        raise InvalidInput(field, f"OTHER is output only; send one of: {known}.")
    spelled: str = value.value
    return spelled


def check_enum_values(values: list[str], field: str = "enumValues") -> str:
    """The upstream's encoding of an enum's values: one comma-separated string (no value may hold a comma)."""
    items = [value.strip() for value in values]
    if any(not item for item in items):
        raise InvalidInput(field, "Values must not be empty.")
    if any("," in item for item in items):
        raise InvalidInput(
            field, "Values must not contain a comma (the upstream stores them comma-separated)."
        )
    return ",".join(items)


def check_regex(value: str, field: str = "regex") -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise InvalidInput(field, f"Not a valid regular expression ({exc.msg}).") from None
    return value


def _common_body(source: Any) -> dict[str, Any]:
    """The optional fields every create input shares, only those given."""
    body: dict[str, Any] = {}
    for name, upstream in _TEXTS.items():
        value = getattr(source, _snake(name))
        if value is not None:
            body[upstream] = value
    for name, upstream in _FLAGS.items():
        value = getattr(source, name)
        if value is not None:
            body[upstream] = value
    for name, upstream in _ID_LISTS.items():
        value = getattr(source, _snake(name))
        if value is not None:
            body[upstream] = check_ids(value, name)
    return body


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), name)


@strawberry.input
class _CommonCreateFields:
    description: str | None = None
    definition: str | None = strawberry.field(default=None, description="Documentation, in Markdown.")
    pii: bool | None = None
    verified: bool | None = None
    published: bool | None = None
    teams: list[strawberry.ID] | None = None
    owners: list[strawberry.ID] | None = None
    owners_groups: list[strawberry.ID] | None = None
    collections: list[strawberry.ID] | None = None
    tags: list[strawberry.ID] | None = None
    subscribers: list[strawberry.ID] | None = None


@strawberry.input(description="A new event category, under an integration.")
class CreateEventCategoryInput(_CommonCreateFields):
    title: str
    integration_id: strawberry.ID

    def to_body(self) -> dict[str, Any]:
        return {
            "title": check_title(self.title),
            "integration": check_id(self.integration_id, "integrationId"),
            **_common_body(self),
        }


@strawberry.input(description="A new event; its integration defaults to its category's.")
class CreateEventInput(_CommonCreateFields):
    title: str
    category_id: strawberry.ID
    integration_id: strawberry.ID | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": check_title(self.title),
            "parent": check_id(self.category_id, "categoryId"),
            "entity_type": "event",
            **_common_body(self),
        }
        if self.integration_id is not None:
            body["integration"] = check_id(self.integration_id, "integrationId")
        return body


@strawberry.input(description="A new property of an event; its integration defaults to its event's.")
class CreateEventPropertyInput(_CommonCreateFields):
    title: str
    event_id: strawberry.ID
    integration_id: strawberry.ID | None = None
    type: PropertyType = strawberry.field(default=PropertyType.STRING, description="Not `OTHER`.")
    is_required: bool | None = None
    enum_values: list[str] | None = strawberry.field(
        default=None, description="Required when `type` is `ENUM`; no value may contain a comma."
    )
    regex: str | None = None
    is_array_type: bool | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "title": check_title(self.title),
            "parent": check_id(self.event_id, "eventId"),
            "entity_type": "event_property",
            "type": check_property_type(self.type),
            **_common_body(self),
        }
        if self.integration_id is not None:
            body["integration"] = check_id(self.integration_id, "integrationId")
        if self.enum_values:
            body["enum_values"] = check_enum_values(self.enum_values)
        elif self.type is PropertyType.ENUM:
            raise InvalidInput("enumValues", "Required when type is ENUM.")
        if self.regex is not None:
            body["regex"] = check_regex(self.regex)
        if self.is_required is not None:
            body["is_required"] = self.is_required
        if self.is_array_type is not None:
            body["is_array_type"] = self.is_array_type
        return body


@strawberry.input
class _CommonUpdateFields:
    title: strawberry.Maybe[str | None]
    description: strawberry.Maybe[str | None]
    definition: strawberry.Maybe[str | None]
    pii: strawberry.Maybe[bool | None]
    verified: strawberry.Maybe[bool | None]
    published: strawberry.Maybe[bool | None]
    teams: strawberry.Maybe[list[strawberry.ID] | None]
    owners: strawberry.Maybe[list[strawberry.ID] | None]
    owners_groups: strawberry.Maybe[list[strawberry.ID] | None]
    collections: strawberry.Maybe[list[strawberry.ID] | None]
    tags: strawberry.Maybe[list[strawberry.ID] | None]
    subscribers: strawberry.Maybe[list[strawberry.ID] | None]

    def to_body(self) -> dict[str, Any]:
        """The fields every kind has, only those given."""
        body: dict[str, Any] = {}
        if self.title is not None:
            body["title"] = check_title(_not_null(self.title.value, "title"))
        for name, upstream in _TEXTS.items():
            given = getattr(self, _snake(name))
            if given is not None:
                body[upstream] = given.value if given.value is not None else ""
        for name, upstream in _FLAGS.items():
            given = getattr(self, name)
            if given is not None:
                body[upstream] = _not_null(given.value, _camel(name))
        for name, upstream in _ID_LISTS.items():
            given = getattr(self, _snake(name))
            if given is not None:
                body[upstream] = check_ids(given.value, name) if given.value is not None else []
        return body


_UPDATE = "A partial update: only the fields given are sent; `null` clears a text or list field."


@strawberry.input(description=f"{_UPDATE} The fields an event has.")
class UpdateEventInput(_CommonUpdateFields):
    pass


@strawberry.input(description=f"{_UPDATE} The fields an event property has.")
class UpdateEventPropertyInput(_CommonUpdateFields):
    type: strawberry.Maybe[PropertyType | None] = strawberry.field(description="Not `OTHER`.")
    is_required: strawberry.Maybe[bool | None]
    enum_values: strawberry.Maybe[list[str] | None] = strawberry.field(
        description="No value may contain a comma; `null` or `[]` clears them."
    )
    regex: strawberry.Maybe[str | None]
    is_array_type: strawberry.Maybe[bool | None]

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        if self.type is not None:
            body["type"] = check_property_type(_not_null(self.type.value, "type"))
        if self.is_required is not None:
            body["is_required"] = _not_null(self.is_required.value, "isRequired")
        if self.is_array_type is not None:
            body["is_array_type"] = _not_null(self.is_array_type.value, "isArrayType")
        if self.enum_values is not None:
            body["enum_values"] = check_enum_values(self.enum_values.value or [])
        if self.regex is not None:
            body["regex"] = check_regex(self.regex.value) if self.regex.value is not None else ""
        return body


def _not_null(value: _T | None, field: str) -> _T:
    """GraphQL cannot say "optional but never null"; an explicit null on such a field gets a clear error."""
    if value is None:
        raise InvalidInput(field, "This field cannot be null; leave it out to keep the current value.")
    return value
