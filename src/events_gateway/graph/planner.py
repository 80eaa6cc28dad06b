"""What to fetch this round: the children lists a level asks for, grouped into batches with what the
request already knows of their sizes. How to fetch a batch is the batching strategy's business
(``batching.py``), and how to page through a list the engine's (``upstream.paging``).

Today a round holds the keys the resolvers of one level asked for in the same event-loop tick, grouped by
spec, each parent with the ``children_count`` its own level brought. The planner is where rounds get
fewer: a level whose parents are a complete set can be asked for by type alone alongside its parents,
and counts remembered from earlier requests can plan every page at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .lists import ChildKey, ListSpec
from .store import RequestStore


@dataclass(frozen=True, slots=True)
class ChildBatch:
    """One batch of a round: the ``kind`` children matching ``spec`` of every parent in ``parents``.

    Attributes:
        counts: each parent's ``children_count`` when known. It bounds what any spec can match (chunks
            stay under the catalog cap with it), and it is the exact length where ``spec.counts_apply``.
    """

    kind: str
    spec: ListSpec
    parents: list[str]
    counts: Mapping[str, int | None]

    def bound(self, parent_id: str) -> int | None:
        """At most how many children ``parent_id`` has in this list, when known."""
        return self.counts.get(parent_id)

    def expected(self, parents: Sequence[str]) -> int | None:
        """Exactly how many children ``parents`` have in this list together, when known: the pages to ask
        for are planned from it."""
        if not self.spec.counts_apply:
            return None
        total = 0
        for parent_id in parents:
            count = self.counts.get(parent_id)
            if count is None:
                return None
            total += count
        return total


class Planner:
    """Turns the keys a level asked for into the batches fetched in this round."""

    __slots__ = ("_store",)

    def __init__(self, store: RequestStore) -> None:
        self._store = store

    def children(self, kind: str, keys: Sequence[ChildKey]) -> list[ChildBatch]:
        """One batch per spec, parents in the order asked, with their counts as this request knows them."""
        by_spec: dict[ListSpec, list[str]] = {}
        for parent_id, spec in keys:
            by_spec.setdefault(spec, []).append(parent_id)
        count = self._store.children_count
        return [
            ChildBatch(kind, spec, parents, {parent_id: count(parent_id) for parent_id in parents})
            for spec, parents in by_spec.items()
        ]
