"""What a list is: a kind, a scope (a parent) and a ``ListSpec`` (its filter and order).

``ListSpec`` is the one place that knows a list's filters and order. A children list is keyed by
``(parent id, spec)``; the batching strategies turn a spec into one List Resources filter and sort, or into
per-parent route parameters plus what is left to do locally; the planner asks it whether the parents'
``children_count`` plans its pages; the store asks it whether an object created or changed in the request
belongs to a list already loaded, and where; a cursor carries its fingerprint.

Each filter is one row of ``FILTERS``: the ``ListSpec`` attribute, the resource field it tests and how
(``Test``). Every method reads the table, so a filter of a known kind is a ``ListSpec`` attribute and its
row here, plus its field in the GraphQL input (``list_inputs.py``); keys, grouping, both strategies, the
store, cursors and the cost rule follow.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final, NamedTuple, TypeAlias, TypedDict

from ..upstream import (
    CATEGORY,
    EVENT,
    EVENT_PROPERTY,
    STABLE_SORT,
    Filter,
    Resource,
    Sort,
    and_,
    contains,
    exact,
    gt,
    in_,
    lt,
    sort,
)

#: Date-times as the upstream writes them (UTC, microseconds, ``Z``), so text order is time order.
_INSTANT_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_EARLIEST: Final = datetime.min.replace(tzinfo=UTC)


class Test(enum.Enum):
    """How a filter tests its resource field; the same test upstream (a catalog operand) and here."""

    EXACT = "exact"  # equal to the value (text, flag or id)
    CONTAINS = "contains"  # text containing the value, ignoring case
    MEMBER = "member"  # a list of ids holding the value
    AFTER = "after"  # a date-time strictly later than the value
    BEFORE = "before"  # a date-time strictly earlier than the value


@dataclass(frozen=True, slots=True)
class FilterField:
    """One filter of a list.

    Attributes:
        name: the ``ListSpec`` attribute (in camelCase, the GraphQL input field).
        field: the resource field as the catalog's filter names it.
        test: how the field is tested.
        key: the field's key in a resource, where it differs from ``field``.
        routes: the kinds whose per-parent list route takes this filter as a query parameter (``field``).
        is_id: the value is an id (the input checks it is a UUID).
    """

    name: str
    field: str
    test: Test
    key: str = ""
    routes: frozenset[str] = frozenset()
    is_id: bool = False

    @property
    def resource_key(self) -> str:
        return self.key or self.field

    def operand(self, value: Any) -> Filter:
        """This filter as a List Resources operand."""
        test = self.test
        if test is Test.EXACT:
            return exact(self.field, value)
        if test is Test.CONTAINS:
            return contains(self.field, value)
        if test is Test.MEMBER:
            return in_(self.field, [value])
        return (gt if test is Test.AFTER else lt)(self.field, instant_text(value))

    def holds(self, resource: Resource, value: Any) -> bool:
        """This filter tested on a resource, as the upstream tests it."""
        actual = resource.get(self.resource_key)
        test = self.test
        if test is Test.EXACT:
            return actual == value and type(actual) is type(value)
        if test is Test.CONTAINS:
            return isinstance(actual, str) and value.casefold() in actual.casefold()
        if test is Test.MEMBER:
            return isinstance(actual, list) and value in actual
        moment = parse_instant(actual)
        if moment is None:
            return False
        return bool(moment > value) if test is Test.AFTER else bool(moment < value)


#: The kinds that have lists; each has a per-parent list route.
LIST_KINDS: Final = frozenset({CATEGORY, EVENT, EVENT_PROPERTY})
_CHILD_ROUTES: Final = frozenset({EVENT, EVENT_PROPERTY})

#: Every filter a list takes, in the order its operands are written.
FILTERS: Final[tuple[FilterField, ...]] = (
    FilterField("title", "title", Test.EXACT, routes=LIST_KINDS),
    FilterField("title_contains", "title", Test.CONTAINS),
    FilterField("description_contains", "description", Test.CONTAINS),
    FilterField("pii", "pii", Test.EXACT),
    FilterField("verified", "verified", Test.EXACT),
    FilterField("published", "published", Test.EXACT),
    FilterField("tag", "tags", Test.MEMBER, is_id=True),
    FilterField("owner", "owners", Test.MEMBER, is_id=True),
    FilterField("team", "teams", Test.MEMBER, is_id=True),
    FilterField("integration_id", "integration_id", Test.EXACT, "integration", _CHILD_ROUTES, is_id=True),
    FilterField("created_after", "created_at", Test.AFTER),
    FilterField("created_before", "created_at", Test.BEFORE),
    FilterField("updated_after", "updated_at", Test.AFTER),
    FilterField("updated_before", "updated_at", Test.BEFORE),
)

#: The fields a list can be ordered by, as the catalog's sort names them.
ORDER_FIELDS: Final = ("title", "created_at", "updated_at")


class OrderKey(NamedTuple):
    """One key of a list's order: a field of ``ORDER_FIELDS``, ascending unless ``descending``."""

    field: str
    descending: bool = False


class RouteFilters(TypedDict):
    """The filters the per-parent list routes take as query parameters (``UpstreamSession.list_events``
    and friends; the categories' route takes ``title`` alone)."""

    title: str | None
    integration_id: str | None


@dataclass(frozen=True, slots=True)
class ListSpec:
    """Which members of a list, in which order; hashable, so equal specs share one load.

    Every filter given must hold (``FILTERS`` says how each is tested); ``None`` leaves it out.
    ``order`` is the list's order before the tie-breaker (id, ascending); empty, the stable order:
    oldest first.
    """

    title: str | None = None
    title_contains: str | None = None
    description_contains: str | None = None
    pii: bool | None = None
    verified: bool | None = None
    published: bool | None = None
    tag: str | None = None
    owner: str | None = None
    team: str | None = None
    integration_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    order: tuple[OrderKey, ...] = ()

    def given(self) -> Iterator[tuple[FilterField, Any]]:
        """The filters this spec sets, with their values."""
        for filter_field in FILTERS:
            value = getattr(self, filter_field.name)
            if value is not None:
                yield filter_field, value

    @property
    def counts_apply(self) -> bool:
        """Whether a parent's ``children_count`` is this list's length: when no filter leaves a child out
        (an order does not change the count)."""
        return next(self.given(), None) is None

    def catalog_filter(self, *scope: Filter) -> Filter:
        """The List Resources filter of this list within ``scope`` (its type, its parents)."""
        return and_(*scope, *(filter_field.operand(value) for filter_field, value in self.given()))

    def catalog_sort(self) -> Sort:
        """The List Resources order: ``order``, ties broken by id, so pages never shift (without an order,
        oldest first, then id)."""
        if not self.order:
            return STABLE_SORT
        result = sort("id", "asc")
        for key in reversed(self.order):
            result = sort(key.field, "desc" if key.descending else "asc", result)
        return result

    def route_filters(self) -> RouteFilters:
        """The filters the per-parent list routes take; ``route_serves`` says whether that is all."""
        return {"title": self.title, "integration_id": self.integration_id}

    def route_serves(self, kind: str) -> bool:
        """Whether the per-parent list route of ``kind`` gives exactly this list, in its order, from
        ``route_filters``; if not, ``arrange`` finishes what it gives."""
        return not self.order and all(kind in filter_field.routes for filter_field, _ in self.given())

    def matches(self, resource: Resource) -> bool:
        """Whether ``resource`` is a member: every filter holds, tested as the upstream tests it."""
        return all(filter_field.holds(resource, value) for filter_field, value in self.given())

    def ordered(self, resources: Iterable[Resource]) -> list[Resource]:
        """``resources`` in this list's order, as the upstream orders it (from the stable order when the
        spec has none of its own: the per-parent routes' order)."""
        result = list(resources)
        if not self.order:
            result.sort(key=_stable_key)
            return result
        result.sort(key=_id)
        for key in reversed(self.order):  # Python's sort is stable, also when reversed
            result.sort(key=_SORT_VALUES[key.field], reverse=key.descending)
        return result

    def arrange(self, resources: Iterable[Resource]) -> list[Resource]:
        """The members of ``resources``, in order: the list, from a route's superset of it."""
        return self.ordered(resource for resource in resources if self.matches(resource))

    @property
    def cursor_tag(self) -> str:
        """A short fingerprint of the filter and order, carried by the list's cursors so that a cursor is
        refused by a list with another filter or order (empty for ``UNFILTERED``: its cursors predate the
        fingerprint)."""
        return _cursor_tag(self)


@lru_cache(maxsize=256)
def _cursor_tag(spec: ListSpec) -> str:
    if spec == UNFILTERED:
        return ""
    text = json.dumps([spec.catalog_filter(), spec.catalog_sort()], sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def instant_text(moment: datetime) -> str:
    """A date-time in the upstream's own form; one without an offset is read as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime(_INSTANT_FORMAT)


def parse_instant(value: Any) -> datetime | None:
    """A resource's date-time field as an aware date-time, ``None`` when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _id(resource: Resource) -> str:
    return str(resource.get("id") or "")


def _title(resource: Resource) -> str:
    value = resource.get("title")
    return value if isinstance(value, str) else ""


def _created(resource: Resource) -> datetime:
    return parse_instant(resource.get("created_at")) or _EARLIEST


def _updated(resource: Resource) -> datetime:
    return parse_instant(resource.get("updated_at")) or _EARLIEST


def _stable_key(resource: Resource) -> tuple[datetime, str]:
    return _created(resource), _id(resource)


_SORT_VALUES: Final[dict[str, Any]] = {"title": _title, "created_at": _created, "updated_at": _updated}

#: Every child, in the stable order: the list whose length ``children_count`` gives.
UNFILTERED: Final = ListSpec()

#: ``(parent id, spec)``: one children list of one parent.
ChildKey: TypeAlias = tuple[str, ListSpec]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A top-level list: one kind, within a parent when given, narrowed and ordered by its spec."""

    kind: str
    spec: ListSpec = UNFILTERED
    parent_id: str | None = None
