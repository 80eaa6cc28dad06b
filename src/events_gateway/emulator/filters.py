"""The List Resources ``filter`` and ``sort`` JSON grammar, validated and compiled to SQL.

Grammar (the upstream's, as far as it is known, and the choices where it is not)::

    filter := {"operator": "exact" | "contains" | "in" | "is_set", "field": <name>, "value": <value>}
            | {"operator": "gt" | "gte" | "lt" | "lte", "field": <name>, "value": <value>}
            | {"operator": "and" | "or", "operands": [filter, ...]}
            | {"operator": "not", "operands": [filter]}
    sort   := {"field": <name>, "order": "asc" | "desc", "tie_breaker": sort | null}

``contains`` is a case-insensitive substring test; ``is_set`` is true when the field is neither null nor
empty (``"value": false`` asks the opposite). ``type`` is the catalog's name for ``entity_type`` (the
resource type), never an event property's data type. Every problem becomes a 400 naming the ``filter``
or ``sort`` parameter. SQL expressions refer to the ``resources`` table of ``store.py`` under alias ``r``.

Two parts are assumptions (docs/emulator.md lists them): the comparisons ``gt``/``gte``/``lt``/``lte``,
on date-time and integer fields only (a date-time value is any ISO 8601 instant, without an offset read as
UTC); and the id-list fields (``tags``, ``owners``, ``teams``, …), which take ``in`` (the resource has at
least one of the ids) and ``is_set`` (the list is not empty), and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from .errors import ValidationError
from .model import canonical_uuid, format_timestamp

Kind = Literal["uuid", "str", "bool", "int", "datetime", "ids"]


@dataclass(frozen=True, slots=True)
class Field:
    """A filterable field: its SQL expression and its kind (``ids``: a JSON list of ids, whose ``sql`` is
    the path of the list in the resource's JSON document)."""

    sql: str
    kind: Kind


def _json(name: str) -> str:
    return f"json_extract(r.data, '$.{name}')"


def _ids(name: str) -> Field:
    return Field(f"$.{name}", "ids")


FIELDS: Final[dict[str, Field]] = {
    "id": Field("r.id", "uuid"),
    "type": Field("r.entity_type", "str"),
    "entity_type": Field("r.entity_type", "str"),
    "parent_id": Field("r.parent_id", "uuid"),
    "parent": Field("r.parent_id", "uuid"),
    "integration_id": Field("r.integration_id", "uuid"),
    "integration": Field("r.integration_id", "uuid"),
    "title": Field("r.title", "str"),
    "native_type": Field("r.native_type", "str"),
    "created_at": Field("r.created_at", "datetime"),
    "updated_at": Field("r.updated_at", "datetime"),
    "external_usage": Field("r.external_usage", "int"),
    "description": Field(_json("description"), "str"),
    "definition": Field(_json("definition"), "str"),
    "title_cased": Field(_json("title_cased"), "str"),
    "icon": Field(_json("icon"), "str"),
    "url": Field(_json("url"), "str"),
    "pii": Field(_json("pii"), "bool"),
    "verified": Field(_json("verified"), "bool"),
    "published": Field(_json("published"), "bool"),
    "archived": Field(_json("archived"), "bool"),
    "total_usage": Field(_json("total_usage"), "int"),
    "internal_usage": Field(_json("internal_usage"), "int"),
    "external_updated_at": Field(_json("external_updated_at"), "datetime"),
    # The docs' notebook sorts on this spelling; accept it as the same field.
    "externally_updated_at": Field(_json("external_updated_at"), "datetime"),
    "tags": _ids("tags"),
    "owners": _ids("owners"),
    "owners_groups": _ids("owners_groups"),
    "teams": _ids("teams"),
    "collections": _ids("collections"),
    "subscribers": _ids("subscribers"),
}

#: Comparison operators (an assumption: the upstream documents none) and their SQL.
COMPARISONS: Final = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
LEAF_OPERATORS: Final = ("exact", "contains", "in", "is_set", *COMPARISONS)
LOGICAL_OPERATORS: Final = ("and", "or", "not")
ORDERS: Final = ("asc", "desc")
MAX_DEPTH: Final = 32
#: An ``in`` list up to this long becomes one SQL parameter per value (SQLite allows 32,766 in a
#: statement); a longer one is passed as one JSON array.
MAX_LISTED_VALUES: Final = 500

#: The catalog's order when no ``sort`` is given: most used first.
DEFAULT_SORT_SQL: Final = "r.external_usage DESC"
#: Appended to every order so pages never shift: oldest first, then id.
STABLE_TAIL_SQL: Final = "r.created_at ASC, r.id ASC"
_STABLE_TAIL_COLUMNS: Final = ("r.created_at", "r.id")


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    params: tuple[Any, ...]


def _bad(param: str, message: str) -> ValidationError:
    return ValidationError.of(param, message)


def parse_json_param(param: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _bad(param, f"Not valid JSON: {exc.msg} (at character {exc.pos}).") from None


def _field(param: str, node: dict[str, Any]) -> tuple[str, Field]:
    name = node.get("field")
    if not isinstance(name, str):
        raise _bad(param, '"field" must be a string naming a resource field.')
    spec = FIELDS.get(name)
    if spec is None:
        known = ", ".join(sorted(FIELDS))
        raise _bad(param, f'Unknown field "{name}". Known fields: {known}.')
    return name, spec


def _scalar(name: str, spec: Field, value: Any) -> Any:
    """The stored form of one comparison value, or a 400 that says what was expected."""
    if spec.kind == "uuid":
        parsed = canonical_uuid(value)
        if parsed is None:
            raise _bad("filter", f'"{value}" is not a valid UUID (field "{name}").')
        return parsed
    if spec.kind in ("str", "datetime"):
        if not isinstance(value, str):
            raise _bad("filter", f'Field "{name}" takes a string value.')
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise _bad("filter", f'Field "{name}" takes true or false.')
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad("filter", f'Field "{name}" takes an integer value.')
    return value


def _instant(name: str, value: Any) -> str:
    """A comparison's date-time value in the stored form (UTC, microseconds, ``Z``), so that text order
    is time order."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise _bad("filter", f'Field "{name}" takes an ISO 8601 date-time, e.g. "2024-01-15T09:00:00Z".')
    return format_timestamp(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))


def _comparison(name: str, spec: Field, operator: str, value: Any) -> Compiled:
    if spec.kind == "datetime":
        return Compiled(f"{spec.sql} {COMPARISONS[operator]} ?", (_instant(name, value),))
    if spec.kind == "int":
        return Compiled(f"{spec.sql} {COMPARISONS[operator]} ?", (_scalar(name, spec, value),))
    raise _bad("filter", f'Operator "{operator}" works on date-time and integer fields; "{name}" is not one.')


def _id_list(name: str, spec: Field, operator: str, value: Any) -> Compiled:
    """An id-list field: ``in`` (has any of these ids) or ``is_set`` (not empty)."""
    if operator == "in":
        if not isinstance(value, list):
            raise _bad("filter", 'Operator "in" takes a list value.')
        ids = [_scalar(name, Field(spec.sql, "uuid"), item) for item in value]
        listed = ", ".join("?" * len(ids)) or "NULL"
        sql = f"EXISTS (SELECT 1 FROM json_each(r.data, '{spec.sql}') WHERE value IN ({listed}))"
        return Compiled(sql, tuple(ids))
    if operator == "is_set":
        if value not in (None, True, False):
            raise _bad("filter", 'Operator "is_set" takes null, true or false.')
        present = f"COALESCE(json_array_length(r.data, '{spec.sql}'), 0) > 0"
        return Compiled(present if value is not False else f"NOT ({present})", ())
    raise _bad(
        "filter", f'Field "{name}" is a list of ids: use "in" (has any of the ids) or "is_set" (not empty).'
    )


def _leaf(node: dict[str, Any], operator: str) -> Compiled:
    name, spec = _field("filter", node)
    if "value" not in node:
        raise _bad("filter", f'Operator "{operator}" needs a "value".')
    value = node["value"]
    if spec.kind == "ids":
        return _id_list(name, spec, operator, value)
    if operator in COMPARISONS:
        return _comparison(name, spec, operator, value)
    if operator == "exact":
        if value is None:
            return Compiled(f"{spec.sql} IS NULL", ())
        return Compiled(f"{spec.sql} = ?", (_scalar(name, spec, value),))
    if operator == "contains":
        if spec.kind != "str":
            raise _bad("filter", f'Operator "contains" works on text fields; "{name}" is not one.')
        if not isinstance(value, str):
            raise _bad("filter", 'Operator "contains" takes a string value.')
        return Compiled(f"ci_contains({spec.sql}, ?)", (value,))
    if operator == "in":
        if not isinstance(value, list):
            raise _bad("filter", 'Operator "in" takes a list value.')
        values = [_scalar(name, spec, item) for item in value]
        if 0 < len(values) <= MAX_LISTED_VALUES:
            # Spelled out, the planner sees the list and can search an index once per value.
            return Compiled(f"{spec.sql} IN ({', '.join('?' * len(values))})", tuple(values))
        return Compiled(f"{spec.sql} IN (SELECT value FROM json_each(?))", (json.dumps(values),))
    # is_set
    if value not in (None, True, False):
        raise _bad("filter", 'Operator "is_set" takes null, true or false.')
    present = f"({spec.sql} IS NOT NULL AND {spec.sql} != '')"
    return Compiled(present if value is not False else f"NOT {present}", ())


def _compile(node: Any, depth: int) -> Compiled:
    if depth > MAX_DEPTH:
        raise _bad("filter", f"Filters may nest at most {MAX_DEPTH} levels.")
    if not isinstance(node, dict):
        raise _bad("filter", "Each filter must be a JSON object with an operator.")
    operator = node.get("operator")
    if operator in LEAF_OPERATORS:
        return _leaf(node, operator)
    if operator not in LOGICAL_OPERATORS:
        known = ", ".join((*LEAF_OPERATORS, *LOGICAL_OPERATORS))
        raise _bad("filter", f'Unknown operator "{operator}". Known operators: {known}.')
    operands = node.get("operands")
    if not isinstance(operands, list) or not operands:
        raise _bad("filter", f'Operator "{operator}" needs a non-empty list of "operands".')
    if operator == "not":
        if len(operands) != 1:
            raise _bad("filter", 'Operator "not" takes exactly one operand.')
        inner = _compile(operands[0], depth + 1)
        return Compiled(f"NOT ({inner.sql})", inner.params)
    parts = [_compile(operand, depth + 1) for operand in operands]
    joiner = " AND " if operator == "and" else " OR "
    sql = joiner.join(f"({part.sql})" for part in parts)
    return Compiled(f"({sql})", tuple(param for part in parts for param in part.params))


def compile_filter(raw: str | None) -> Compiled | None:
    """SQL for a ``filter`` query parameter (``None`` when absent or empty)."""
    if raw is None or not raw.strip():
        return None
    return _compile(parse_json_param("filter", raw), 0)


def compile_sort(raw: str | None) -> str:
    """An ``ORDER BY`` list for a ``sort`` query parameter, always ending in the stable tail."""
    if raw is None or not raw.strip():
        return f"{DEFAULT_SORT_SQL}, {STABLE_TAIL_SQL}"
    node = parse_json_param("sort", raw)
    terms: dict[str, str] = {}  # expression -> term; a later key on an expression already sorted is a no-op
    depth = 0
    while node is not None:
        depth += 1
        if depth > MAX_DEPTH:
            raise _bad("sort", f"Tie breakers may nest at most {MAX_DEPTH} levels.")
        if not isinstance(node, dict):
            raise _bad("sort", 'A sort must be a JSON object with "field" and "order".')
        name, spec = _field("sort", node)
        if spec.kind == "ids":
            raise _bad("sort", f'Field "{name}" is a list of ids and cannot be sorted on.')
        order = node.get("order", "asc")
        if not isinstance(order, str) or order.lower() not in ORDERS:
            raise _bad("sort", f'Unknown order "{order}"; use "asc" or "desc".')
        terms.setdefault(spec.sql, f"{spec.sql} {order.upper()}")
        node = node.get("tie_breaker")
    for column in _STABLE_TAIL_COLUMNS:
        terms.setdefault(column, f"{column} ASC")
    # Dropping the repeats changes no order, and spares SQLite a sort that the index order already gives.
    return ", ".join(terms.values())
