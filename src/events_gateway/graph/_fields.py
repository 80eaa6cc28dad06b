"""Scalar fields read from the upstream's resource dict when asked for, generated from the annotations.

An object type declares each scalar field once, as a Strawberry annotation; ``read_on_demand`` then gives
the class one descriptor per such field (a field without a resolver), chosen by the annotation's type:
a string, boolean, date-time, integer, id, list of ids, list of strings, enum or JSON reader. The upstream
key is the field's Python name unless a rename map says otherwise. A field whose type has no reader fails
at import, never as a runtime ``INTERNAL_SERVER_ERROR`` or a silently missing field.

Why descriptors: a resource has some forty scalar fields and a query usually asks for a few, once each.
Converting them all up front was most of the CPU of a large tree, and so was keeping each converted
value in the instance. ``from_resource`` keeps the dict alone (in the ``_resource`` slot), and a read
converts the upstream value, a pure function of the dict. Objects built with their constructor (all
fields given) never reach a descriptor: their own attributes come first. The common conversions are
written out in their own subclasses, a call less on each of the tens of thousands of fields a large tree
reads.

Example::

    @strawberry.type
    class Thing(FromResource):
        id: strawberry.ID
        title: str
        parent_id: strawberry.ID | None

    read_on_demand(Thing, renames={"parent_id": "parent"})
    Thing.from_resource({"id": "1", "title": "A", "parent": "2"}).parent_id  # '2'
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Self

from strawberry.scalars import JSON
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.enum import StrawberryEnumDefinition

from ..upstream import Resource as UpstreamResource

__all__ = ["EAGER_FIELDS", "FromResource", "Renames", "read_on_demand", "upstream_keys_of"]

#: Field name → the upstream key it reads, or several keys, the first present winning (an older name).
Renames = Mapping[str, str | tuple[str, ...]]

#: Fields set when an object is built: asked for nearly always, and cheap (see ``from_resource``).
EAGER_FIELDS: Final = ("id", "title")


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


def _bool(value: Any) -> bool | None:
    return value if value is True or value is False else None


def _raw(value: Any) -> Any:
    return value


def _strings(value: Any) -> list[str] | None:
    """A list of strings the upstream sends as one comma-separated string (``"a,b"``; ``""`` is none).

    A JSON list is taken as it is, should an upstream send one."""
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",")]
    elif isinstance(value, list):
        items = [item.strip() for item in value if isinstance(item, str)]
    else:
        return None
    kept = [item for item in items if item]
    return kept or None


def _member(enum_class: enum.EnumMeta) -> Callable[[Any], Any]:
    """A string read as a member of ``enum_class`` (whose ``_missing_`` decides about odd values).

    A known value is looked up in a table of the members by value (the call ``enum_class(value)`` makes
    the same lookup, through several Python frames, for each of a tree's thousand properties).
    """
    members: dict[Any, Any] = {member.value: member for member in enum_class}  # type: ignore[var-annotated]

    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return None
        member = members.get(value)
        if member is not None:
            return member
        try:
            return enum_class(value)
        except ValueError:
            return None

    return convert


class _ReadOnDemand:
    """A scalar field read from the upstream dict each time it is asked for (a non-data descriptor)."""

    __slots__ = ("_convert", "_key", "_name")

    def __init__(self, name: str, key: str, convert: Callable[[Any], Any] = _raw) -> None:
        self._name = name
        self._key = key
        self._convert = convert

    def _resource(self, instance: FromResource | None) -> UpstreamResource:
        """The instance's upstream dict; on the class, as for any dataclass field without a default,
        the attribute does not exist."""
        try:
            return instance._resource  # type: ignore[union-attr]  # None: read on the class
        except AttributeError:
            raise AttributeError(self._name) from None

    def __get__(self, instance: FromResource | None, owner: type | None = None) -> Any:
        return self._convert(self._resource(instance).get(self._key))


class _Str(_ReadOnDemand):
    """A string field (``_str``, written out)."""

    __slots__ = ()

    def __get__(self, instance: FromResource | None, owner: type | None = None) -> Any:
        try:
            value = instance._resource.get(self._key)  # type: ignore[union-attr]  # None: see _resource
        except AttributeError:
            raise AttributeError(self._name) from None
        return value if isinstance(value, str) else None


class _Bool(_ReadOnDemand):
    """A boolean field: ``True`` or ``False``, anything else ``None`` (``_bool``, written out)."""

    __slots__ = ()

    def __get__(self, instance: FromResource | None, owner: type | None = None) -> Any:
        try:
            value = instance._resource.get(self._key)  # type: ignore[union-attr]  # None: see _resource
        except AttributeError:
            raise AttributeError(self._name) from None
        return value if value is True or value is False else None


class _Time(_ReadOnDemand):
    """A date-time field (``_time``, written out for the usual case: a non-empty ``str``)."""

    __slots__ = ()

    def __get__(self, instance: FromResource | None, owner: type | None = None) -> Any:
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


class _FirstOf(_ReadOnDemand):
    """A field the upstream may send under several keys: the first key present is read."""

    __slots__ = ("_keys",)

    def __init__(self, name: str, keys: tuple[str, ...], convert: Callable[[Any], Any]) -> None:
        super().__init__(name, keys[0], convert)
        self._keys = keys

    def __get__(self, instance: FromResource | None, owner: type | None = None) -> Any:
        resource = self._resource(instance)
        for key in self._keys:
            if key in resource:
                return self._convert(resource[key])
        return self._convert(None)


#: The descriptor class and conversion for each annotated type, under any ``| None``.
_BY_TYPE: Final[dict[object, tuple[type[_ReadOnDemand], Callable[[Any], Any]]]] = {
    str: (_Str, _str),
    bool: (_Bool, _bool),
    datetime: (_Time, _time),
    int: (_ReadOnDemand, _int),
    JSON: (_ReadOnDemand, _raw),
}
#: The conversion for each list type, by its item type.
_LIST_OF: Final[dict[object, Callable[[Any], Any]]] = {str: _strings}


def _reader(name: str, keys: tuple[str, ...], annotated: object) -> _ReadOnDemand:
    """The descriptor of one field, from its resolved Strawberry type."""
    of_type = annotated.of_type if isinstance(annotated, StrawberryOptional) else annotated
    descriptor: type[_ReadOnDemand] = _ReadOnDemand
    convert: Callable[[Any], Any] | None = None
    if isinstance(of_type, StrawberryList):
        item = of_type.of_type
        convert = _ids if _is_id(item) else _LIST_OF.get(item)
    elif _is_id(of_type):
        convert = _id
    elif isinstance(of_type, StrawberryEnumDefinition):
        convert = _member(of_type.wrapped_cls)
    elif of_type in _BY_TYPE:
        descriptor, convert = _BY_TYPE[of_type]
    if convert is None:
        raise TypeError(f"no upstream reader for field {name!r} of type {annotated!r}; give it a resolver")
    if len(keys) > 1:
        return _FirstOf(name, keys, convert)
    return descriptor(name, keys[0], convert)


def _is_id(annotated: object) -> bool:
    # ``strawberry.ID`` is a ``NewType`` of ``str``; compared by name to stay clear of its typing shape.
    return getattr(annotated, "__name__", None) == "ID" and getattr(annotated, "__supertype__", None) is str


def read_on_demand(*types: type[FromResource], renames: Renames) -> None:
    """Give each decorated object type one descriptor per scalar field (no resolver), reading the upstream
    key ``renames`` names for it, else its Python name. Call it once the types are decorated (the
    dataclass machinery has removed its field placeholders from the class by then)."""
    for cls in types:
        definition = get_object_definition(cls, strict=True)
        for field in definition.fields:
            name = field.python_name
            if field.base_resolver is not None or name in EAGER_FIELDS:
                continue
            setattr(cls, name, _reader(name, upstream_keys_of(name, renames), field.type))


def upstream_keys_of(name: str, renames: Renames) -> tuple[str, ...]:
    """The upstream keys a scalar field named ``name`` reads (see ``read_on_demand``)."""
    key = renames.get(name, name)
    return key if isinstance(key, tuple) else (key,)


class FromResource:
    """Builds an object type from an upstream resource dict (see the module docstring)."""

    # The upstream dict of an object built by ``from_resource``; the subclasses keep their ``__dict__``.
    __slots__ = ("__dict__", "_resource")

    if TYPE_CHECKING:
        _resource: UpstreamResource

    @classmethod
    def from_resource(cls, resource: UpstreamResource) -> Self:
        """The object for an upstream resource dict, whose fields are read as they are asked for."""
        instance = object.__new__(cls)
        instance._resource = resource
        # ``EAGER_FIELDS``: set now, they skip the descriptors.
        instance.__dict__ = {"id": resource["id"], "title": resource.get("title") or ""}
        return instance


# Strawberry asks every object of a type that implements an interface whether it was ``strawberry.cast``;
# answered here, the question never becomes a failed attribute lookup.
setattr(FromResource, TYPE_CAST_ATTRIBUTE, None)
