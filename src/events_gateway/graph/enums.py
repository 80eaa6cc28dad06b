"""Enumerations the schema serves and accepts, with the upstream spelling of each member as its value.

The upstream types a property's data type as a free string. The schema offers an enum instead, so a code
generator gives clients a closed union, and keeps one member, ``OTHER``, for a value it does not know: one
odd value in the upstream's data then reads as ``OTHER`` (with the string itself in ``rawType``) rather
than failing its field, and with it a whole list of properties. ``OTHER`` is never accepted as input.
"""

from __future__ import annotations

import enum
from typing import Any

import strawberry

__all__ = ["PropertyType"]


@strawberry.enum(
    description=(
        "An event property's data type. `OTHER`: a type the upstream reported that this API does not know "
        "(the upstream's own string is in `rawType`); output only."
    )
)
class PropertyType(enum.Enum):
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ENUM = "enum"
    OBJECT = "object"
    ARRAY = "array"
    DATE = "date"
    DATETIME = "datetime"
    OTHER = "other"

    @classmethod
    def _missing_(cls, value: Any) -> PropertyType | None:
        """Any other non-empty string: its member when the case or spaces differ, else ``OTHER``."""
        if not isinstance(value, str) or not value.strip():
            return None  # no type at all: the field reads null
        spelled = value.strip().lower()
        return next((member for member in cls if member.value == spelled), cls.OTHER)
