"""Write bodies (create and partial update) checked the way a DRF serializer checks them.

Every problem in a body is collected and reported at once, as ``{"field": ["message"]}``; nothing is written
unless the whole body is valid. Unknown and read-only fields are ignored, as DRF ignores them. Ids are
accepted hyphenated or bare hex and stored hyphenated.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from . import errors as e
from .errors import ValidationError, json_type_name
from .model import (
    BOOLEAN_FIELDS,
    EVENT_PROPERTY,
    PARENT_KIND,
    STRING_FIELDS,
    UUID_LIST_FIELDS,
    parse_uuid,
)
from .store import NewResource, ResourceChanges, Store

#: Fields held in columns rather than the JSON document.
_COLUMN_FIELDS = {
    "title": "title",
    "native_type": "native_type",
    "parent": "parent_id",
    "integration": "integration_id",
}


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a write; an empty body counts as ``{}``."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "the body is not UTF-8"
        raise ValidationError.of(e.NON_FIELD_ERRORS, e.MALFORMED_JSON.format(reason=reason)) from None
    if not isinstance(body, dict):
        raise ValidationError.of(e.NON_FIELD_ERRORS, e.BODY_NOT_AN_OBJECT.format(type=json_type_name(body)))
    return body


class _Checker:
    """Collects the clean values and the errors of one body."""

    def __init__(self, store: Store, workspace: str, kind: str, body: dict[str, Any], partial: bool) -> None:
        self.store = store
        self.workspace = workspace
        self.kind = kind
        self.body = body
        self.partial = partial
        self.values: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def string(self, name: str, *, required: bool = False, blank: bool = True) -> None:
        if name not in self.body:
            if required and not self.partial:
                self.fail(name, e.REQUIRED)
            return
        value = self.body[name]
        if value is None:
            self.fail(name, e.NULL)
        elif not isinstance(value, str):
            self.fail(name, e.NOT_A_STRING)
        elif not blank and not value.strip():
            self.fail(name, e.BLANK)
        else:
            self.values[name] = value

    def boolean(self, name: str) -> None:
        if name not in self.body:
            return
        value = self.body[name]
        if not isinstance(value, bool):
            self.fail(name, e.NOT_A_BOOLEAN)
        else:
            self.values[name] = value

    def uuid_list(self, name: str) -> None:
        if name not in self.body:
            return
        value = self.body[name]
        if not isinstance(value, list):
            self.fail(name, e.NOT_A_LIST.format(type=json_type_name(value)))
            return
        parsed: list[str] = []
        for item in value:
            item_id = parse_uuid(item)
            if item_id is None:
                self.fail(name, e.INVALID_UUID.format(value=item))
            else:
                parsed.append(str(item_id))
        if name not in self.errors:
            self.values[name] = parsed

    def mapping(self, name: str) -> None:
        if name not in self.body:
            return
        value = self.body[name]
        if not isinstance(value, dict):
            self.fail(name, e.NOT_AN_OBJECT.format(type=json_type_name(value)))
        else:
            self.values[name] = value

    def reference(self, name: str, required: bool) -> uuid.UUID | None:
        """A uuid-valued field, parsed; ``None`` when absent, null or invalid (errors recorded)."""
        if name not in self.body:
            if required and not self.partial:
                self.fail(name, e.REQUIRED)
            return None
        value = self.body[name]
        if value is None:
            self.fail(name, e.NULL)
            return None
        parsed = parse_uuid(value)
        if parsed is None:
            self.fail(name, e.INVALID_UUID.format(value=value))
        return parsed

    def parent(self) -> None:
        expected = PARENT_KIND[self.kind]
        if expected is None:
            if self.body.get("parent") is not None:
                self.fail("parent", e.NO_PARENT_ALLOWED)
            return
        parent_id = self.reference("parent", required=True)
        if parent_id is None:
            return
        actual = self.store.kind_of(self.workspace, str(parent_id))
        if actual is None:
            self.fail("parent", e.DOES_NOT_EXIST.format(value=self.body["parent"]))
        elif actual != expected:
            self.fail(
                "parent",
                e.WRONG_PARENT_KIND.format(value=self.body["parent"], child=self.kind, parent=expected),
            )
        else:
            self.values["parent"] = str(parent_id)

    def integration(self) -> None:
        integration_id = self.reference("integration", required=True)
        if integration_id is None:
            return
        if self.store.get_integration(self.workspace, str(integration_id)) is None:
            self.fail("integration", e.DOES_NOT_EXIST.format(value=self.body["integration"]))
        else:
            self.values["integration"] = str(integration_id)

    def entity_type(self) -> None:
        if "entity_type" in self.body and self.body["entity_type"] != self.kind:
            self.fail(
                "entity_type", e.WRONG_ENTITY_TYPE.format(value=self.body["entity_type"], expected=self.kind)
            )

    def property_fields(self) -> None:
        if self.kind != EVENT_PROPERTY:
            return
        self.string("type", blank=False)
        self.boolean("is_required")
        self.boolean("is_array_type")
        self.string("regex")
        # ``enum`` is what current client code sends; ``enum_values`` is what responses carry.
        if "enum_values" not in self.body and "enum" in self.body:
            self.body = {**self.body, "enum_values": self.body["enum"]}
        self.string("enum_values")

    def run(self) -> None:
        self.string("title", required=True, blank=False)
        self.entity_type()
        for name in STRING_FIELDS:
            self.string(name)
        for name in BOOLEAN_FIELDS:
            self.boolean(name)
        for name in UUID_LIST_FIELDS:
            self.uuid_list(name)
        self.mapping("properties")
        self.parent()
        self.integration()
        self.property_fields()
        if self.errors:
            raise ValidationError(self.errors)

    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        columns = {
            _COLUMN_FIELDS[name]: value for name, value in self.values.items() if name in _COLUMN_FIELDS
        }
        data = {name: value for name, value in self.values.items() if name not in _COLUMN_FIELDS}
        return columns, data


def validate_create(store: Store, workspace: str, kind: str, body: dict[str, Any]) -> NewResource:
    """A new resource of ``kind`` from a POST body, or a :class:`ValidationError` with every problem."""
    checker = _Checker(store, workspace, kind, body, partial=False)
    checker.run()
    columns, data = checker.split()
    return NewResource(
        id=str(uuid.uuid4()),
        entity_type=kind,
        title=columns["title"],
        parent_id=columns.get("parent_id"),  # never set for a category: parent() refuses one
        integration_id=columns["integration_id"],
        native_type=columns.get("native_type"),
        data=data,
    )


def validate_update(store: Store, workspace: str, kind: str, body: dict[str, Any]) -> ResourceChanges:
    """The changes a PATCH body asks for (partial: absent fields stay as they are)."""
    checker = _Checker(store, workspace, kind, body, partial=True)
    checker.run()
    columns, data = checker.split()
    return ResourceChanges(columns=columns, data=data)
