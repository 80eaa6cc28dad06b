"""Builders for the List Resources (``/resource/catalog``) filter and sort JSON.

Example, the events of two categories::

    and_(exact("type", "event"), in_("parent_id", [a, b]))
"""

from __future__ import annotations

from typing import Any, TypeAlias

Filter: TypeAlias = dict[str, Any]
Sort: TypeAlias = dict[str, Any]

#: Resource types as the catalog's ``type`` field names them.
CATEGORY = "category"
EVENT = "event"
EVENT_PROPERTY = "event_property"


def exact(field: str, value: Any) -> Filter:
    return {"operator": "exact", "field": field, "value": value}


def contains(field: str, value: str) -> Filter:
    return {"operator": "contains", "field": field, "value": value}


def in_(field: str, values: list[Any]) -> Filter:
    return {"operator": "in", "field": field, "value": list(values)}


def gt(field: str, value: Any) -> Filter:
    """Later or greater than ``value``: an operator the upstream does not document (docs/lists.md)."""
    return {"operator": "gt", "field": field, "value": value}


def lt(field: str, value: Any) -> Filter:
    """Earlier or less than ``value``: an operator the upstream does not document (docs/lists.md)."""
    return {"operator": "lt", "field": field, "value": value}


def is_set(field: str) -> Filter:
    return {"operator": "is_set", "field": field, "value": None}


def and_(*operands: Filter) -> Filter:
    return {"operator": "and", "operands": list(operands)}


def or_(*operands: Filter) -> Filter:
    return {"operator": "or", "operands": list(operands)}


def not_(operand: Filter) -> Filter:
    return {"operator": "not", "operands": [operand]}


def sort(field: str, order: str = "asc", tie_breaker: Sort | None = None) -> Sort:
    return {"field": field, "order": order, "tie_breaker": tie_breaker}


#: The order every list of the gateway uses, on every route: oldest first, ties broken by id, so that
#: pages never shift under a reader and the batched and per-parent paths agree.
STABLE_SORT: Sort = sort("created_at", "asc", sort("id", "asc"))
