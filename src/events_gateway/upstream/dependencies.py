"""What each upstream read depends on, as the cache's generation scopes: the one place where the routes
and List Resources filters the client sends are read as parts of the category → event → property tree.

A cached answer is served only while none of the scopes it depends on was bumped by a write since
(``cache/scopes.py``). The rule, from the request alone:

==========================================================  ===============================================
``GET /event/category/{id}`` (and events', properties')     that object: ``object_deps(kind, id)``
``GET /resource/all/{id}``                                  that object, of whichever kind it is
``GET /event/events/?parent_id=…`` (and properties')        that parent's children: ``children_deps``
``GET /event/category/``, a child route without a parent    the kind's lists: ``list_deps(kind)``
List Resources, ``type`` + ``parent_id in […]``             those parents' children lists
List Resources, ``id in […]`` (with or without ``type``)    those objects (of the kind, or of every kind)
List Resources, ``type`` alone (with any other filter)      the kind's lists
anything else                                               every kind's lists (any write bumps one)
==========================================================  ===============================================

Only the top level of a List Resources filter (an ``and`` of operands, or one operand) narrows the
scopes; a narrowing found under ``or`` or ``not`` is ignored, which widens them: wider is never wrong,
only less often a hit. Other operands (a title, a date) narrow the results within those scopes, so the
writes that change them bump those scopes too.

Writes name what they changed with the same :data:`HIERARCHY` (``HIERARCHY.created(EVENT, id,
parent_id=…)``, see ``graph/mutations.py``); a whole operation's result depends on
:data:`OPERATION_DEPS`, which every write of the tree bumps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from ..cache import Hierarchy, Scope
from ._envelope import normalise_id
from .filters import CATEGORY, EVENT, EVENT_PROPERTY, Filter

__all__ = ["HIERARCHY", "OPERATION_DEPS", "catalog_deps", "read_deps"]

#: The gateway's kinds from the root down, named as the catalog's ``type`` names them.
HIERARCHY: Final = Hierarchy((CATEGORY, EVENT, EVENT_PROPERTY))

#: Every kind's lists: any create, update or delete of the tree bumps one of them (``Hierarchy._bump``
#: always bumps the written kind's lists), so an answer depending on all of them outlives no write.
OPERATION_DEPS: Final[tuple[Scope, ...]] = tuple(
    scope for kind in HIERARCHY.kinds for scope in HIERARCHY.list_deps(kind)
)

#: The per-kind routes, by path below the API root.
_ROUTE_KINDS: Final = {
    "/event/category": CATEGORY,
    "/event/events": EVENT,
    "/event/event_properties": EVENT_PROPERTY,
}
_NOTHING: Final[tuple[Scope, ...]] = ()


def read_deps(
    route: str,
    *,
    object_id: str | None = None,
    parent_id: str | None = None,
    catalog_filter: Filter | None = None,
) -> tuple[Scope, ...]:
    """The scopes the answer to one GET depends on.

    ``route`` is the route template as the client names it (``GET /event/events/{id}``); ``object_id``
    the id in its path, ``parent_id`` a child route's ``parent_id`` parameter, ``catalog_filter`` the
    List Resources filter as sent.
    """
    path = route.removeprefix("GET ")
    if path.endswith("/{id}"):
        base = path[: -len("/{id}")]
        kind = _ROUTE_KINDS.get(base)
        if object_id is None:
            return OPERATION_DEPS
        if kind is not None:
            return HIERARCHY.object_deps(kind, _id(object_id))
        if base == "/resource/all":
            return _objects(HIERARCHY.kinds, [object_id])
        return _NOTHING if base.startswith("/integration/") else OPERATION_DEPS
    kind = _ROUTE_KINDS.get(path)
    if kind is not None:
        parent_kind = HIERARCHY.parent_of(kind)
        if parent_id is not None and parent_kind is not None:
            return HIERARCHY.children_deps(parent_kind, _id(parent_id), kind)
        return HIERARCHY.list_deps(kind)
    if path == "/resource/catalog":
        return catalog_deps(catalog_filter)
    if path.startswith("/integration/"):
        return _NOTHING  # no write of the gateway changes an integration
    return OPERATION_DEPS


def catalog_deps(catalog_filter: Filter | None) -> tuple[Scope, ...]:
    """The scopes a List Resources answer for ``catalog_filter`` depends on (the module's table)."""
    operands: list[Any] = []
    if isinstance(catalog_filter, Mapping):
        nested = catalog_filter.get("operands")
        if catalog_filter.get("operator") == "and" and isinstance(nested, list):
            operands = nested
        else:
            operands = [catalog_filter]
    kind: str | None = None
    ids: list[str] | None = None
    parents: list[str] | None = None
    for operand in operands:
        if not isinstance(operand, Mapping):
            continue
        field, operator, value = operand.get("field"), operand.get("operator"), operand.get("value")
        if field == "type" and operator == "exact" and isinstance(value, str):
            kind = value if kind is None or kind == value else ""  # two types: nothing matches; stay wide
        elif field == "id" and (values := _values(operator, value)) is not None:
            ids = _both(ids, values)
        elif field == "parent_id" and (values := _values(operator, value)) is not None:
            parents = _both(parents, values)
    kinds = (kind,) if kind in HIERARCHY.kinds else HIERARCHY.kinds
    if ids is not None:
        return _objects(kinds, ids)
    parent_kind = HIERARCHY.parent_of(kinds[0]) if len(kinds) == 1 else None
    if parents is not None and parent_kind is not None:
        return HIERARCHY.children_deps(parent_kind, [_id(p) for p in parents], kinds[0])
    return tuple(dict.fromkeys(scope for each in kinds for scope in HIERARCHY.list_deps(each)))


def _values(operator: object, value: object) -> list[str] | None:
    """The ids an ``exact`` or ``in`` operand names, or ``None`` for any other operand."""
    if operator == "exact" and isinstance(value, str):
        return [value]
    if operator == "in" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _both(known: list[str] | None, values: list[str]) -> list[str]:
    """Two operands on one field must both hold: the ids both name."""
    if known is None:
        return values
    allowed = set(values)
    return [value for value in known if value in allowed]


def _objects(kinds: Iterable[str], ids: list[str]) -> tuple[Scope, ...]:
    normalised = [_id(object_id) for object_id in ids]
    return tuple(
        dict.fromkeys(
            scope
            for kind in kinds
            for object_id in normalised
            for scope in HIERARCHY.object_deps(kind, object_id)
        )
    )


def _id(value: str) -> str:
    """Ids as the writes name them: the upstream's resources carry normalised UUIDs."""
    return str(normalise_id(value))
