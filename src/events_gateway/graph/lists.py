"""What a list is: a kind, a scope (a parent, an integration) and a ``ListSpec`` (its filter and order).

``ListSpec`` is the one place that knows a list's filters and order. A children list is keyed by
``(parent id, spec)``; the batching strategies turn a spec into List Resources operands or per-parent route
parameters, the planner asks it whether the parents' ``children_count`` plans its pages, and the store asks
it whether an object created in the request joins a list already loaded. Adding a filter or an order is
adding a field here and its line in each of those methods; keys, grouping, batching and the store follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias, TypedDict

from ..upstream import STABLE_SORT, Filter, Resource, Sort, and_, exact


class RouteFilters(TypedDict):
    """A spec as the per-parent list routes take it (``UpstreamSession.list_events`` and friends)."""

    title: str | None


@dataclass(frozen=True, slots=True)
class ListSpec:
    """Which members of a list, in which order; hashable, so equal specs share one load.

    Attributes:
        title: keep only the objects with exactly this title.
    """

    title: str | None = None

    @property
    def counts_apply(self) -> bool:
        """Whether a parent's ``children_count`` is this list's length: only when no filter leaves any
        child out (an order, once there is one, would not change the count)."""
        return self == UNFILTERED

    def catalog_filter(self, *scope: Filter) -> Filter:
        """The List Resources filter of this list within ``scope`` (its type, its parents)."""
        operands = list(scope)
        if self.title is not None:
            operands.append(exact("title", self.title))
        return and_(*operands)

    def catalog_sort(self) -> Sort:
        """The List Resources order: oldest first, ties broken by id, so pages never shift."""
        return STABLE_SORT

    def route_filters(self) -> RouteFilters:
        """The same filter as query parameters of the per-parent list routes."""
        return {"title": self.title}

    def matches(self, resource: Resource) -> bool:
        """Whether ``resource`` is a member: an object created in this request joins the lists of its
        parent already loaded whose spec it matches."""
        return self.title is None or resource.get("title") == self.title


#: Every child, in the stable order: the list whose length ``children_count`` gives.
UNFILTERED: Final = ListSpec()

#: ``(parent id, spec)``: one children list of one parent.
ChildKey: TypeAlias = tuple[str, ListSpec]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A top-level list: one kind, within a parent or an integration when given, narrowed by its spec."""

    kind: str
    spec: ListSpec = UNFILTERED
    parent_id: str | None = None
    integration_id: str | None = None
