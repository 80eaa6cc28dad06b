"""What an entry depends on and what a write changes, as generation scopes of a parent → child hierarchy.

Each entry names the scopes its answer was computed from; each scope has a generation counter (per key
hash); a write bumps the counters of the scopes it changes, and every entry computed under an older
generation stops matching. Nothing is scanned and no index of entries is kept.

Scopes of one kind ``K`` (any string: ``category``, ``event``, ``property``):

===================================  =================================================================
``object(K, id)``                    one object's own answer (``GET /…/{id}``)
``children(P, parent_id, K)``        the ``K`` children of one parent (and the parent's count of them)
``lists(K)``                         type-wide lists of ``K`` (not narrowed to parents)
``every(K)``                         everything about ``K``; bumped when a cascade removes unknown ``K``
===================================  =================================================================

:class:`Hierarchy` turns both sides into scope lists, so the reader and the writer cannot disagree::

    tree = Hierarchy(("category", "event", "property"))
    deps = tree.children_deps("category", category_id, "event")     # what a list of events depends on
    scopes = tree.created("event", event_id, parent_id=category_id)  # what creating one bumps

A parent's count of children (``children_count``) travels with the parent: creating or deleting a child
changes the parent's own answer, the type-wide lists of the parent kind and the grandparent's children
list (by id when known, else every list of the parent kind's children).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["Hierarchy", "Scope", "children", "every", "lists", "object_"]

#: A scope's name, free of the key hash (the cache adds it): ``o:event:42``, ``c:category:7:event``, …
Scope = str


def object_(kind: str, object_id: str) -> Scope:
    return f"o:{_part(kind)}:{_part(object_id)}"


def children(parent_kind: str, parent_id: str, kind: str) -> Scope:
    return f"c:{_part(parent_kind)}:{_part(parent_id)}:{_part(kind)}"


def lists(kind: str) -> Scope:
    return f"l:{_part(kind)}"


def every(kind: str) -> Scope:
    return f"k:{_part(kind)}"


def _part(text: str) -> str:
    """Percent-encoded, so an id holding ``:``, a space or a newline cannot pose as another scope (scopes
    travel in Redis keys and in broadcast lines)."""
    return quote(text, safe="-_.")


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """Kinds from the root down (``("category", "event", "property")``): the reads' dependencies and
    the writes' bumps, derived from one rule."""

    kinds: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.kinds or len(set(self.kinds)) != len(self.kinds):
            raise ValueError("a hierarchy needs distinct kinds, root first")

    def parent_of(self, kind: str) -> str | None:
        index = self._index(kind)
        return self.kinds[index - 1] if index else None

    def descendants(self, kind: str) -> tuple[str, ...]:
        return self.kinds[self._index(kind) + 1 :]

    # --- reads -----------------------------------------------------------------------------------

    def object_deps(self, kind: str, object_id: str) -> tuple[Scope, ...]:
        """One object's answer."""
        self._index(kind)
        return (object_(kind, object_id), every(kind))

    def children_deps(
        self, parent_kind: str, parent_ids: str | Iterable[str], kind: str
    ) -> tuple[Scope, ...]:
        """A list of ``kind`` narrowed to one or more parents (a batched ``parent_id in […]`` call)."""
        self._check_child(parent_kind, kind)
        ids = (parent_ids,) if isinstance(parent_ids, str) else tuple(parent_ids)
        return (*(children(parent_kind, pid, kind) for pid in sorted(set(ids))), every(kind))

    def list_deps(self, kind: str) -> tuple[Scope, ...]:
        """A type-wide list of ``kind`` (every category; the catalog filtered by type alone)."""
        self._index(kind)
        return (lists(kind), every(kind))

    # --- writes ----------------------------------------------------------------------------------

    def created(
        self, kind: str, object_id: str, *, parent_id: str | None = None, grandparent_id: str | None = None
    ) -> tuple[Scope, ...]:
        """A new object: its lists, its parent's children list and the parent's count."""
        return self._bump(kind, object_id, (parent_id,), grandparent_id, counts=True, cascade=False)

    def updated(
        self,
        kind: str,
        object_id: str,
        *,
        parent_id: str | None = None,
        moved_from: str | None = None,
        grandparent_id: str | None = None,
    ) -> tuple[Scope, ...]:
        """A changed object; ``moved_from`` names its former parent when the write moved it (then both
        parents' lists and counts change, and, their grandparents being two, every list of the parents'
        kind)."""
        parents = (parent_id, moved_from)
        moved = moved_from is not None and moved_from != parent_id
        grandparent = None if moved else grandparent_id
        return self._bump(kind, object_id, parents, grandparent, counts=moved, cascade=False)

    def deleted(
        self, kind: str, object_id: str, *, parent_id: str | None = None, grandparent_id: str | None = None
    ) -> tuple[Scope, ...]:
        """A removed object and, since the upstream removes its descendants too, every descendant kind."""
        return self._bump(kind, object_id, (parent_id,), grandparent_id, counts=True, cascade=True)

    def _bump(
        self,
        kind: str,
        object_id: str,
        parent_ids: tuple[str | None, ...],
        grandparent_id: str | None,
        *,
        counts: bool,
        cascade: bool,
    ) -> tuple[Scope, ...]:
        scopes = [object_(kind, object_id), lists(kind)]
        parent_kind = self.parent_of(kind)
        known_parents = [pid for pid in dict.fromkeys(parent_ids) if pid is not None]
        if parent_kind is not None:
            if not known_parents:
                scopes.append(every(kind))  # its parent's list is unknown: every list of this kind
                if counts:
                    scopes.append(every(parent_kind))  # and whose count changed: every parent's
            for pid in known_parents:
                scopes.append(children(parent_kind, pid, kind))
                if counts:  # the parent's children_count shows wherever the parent does
                    scopes += [object_(parent_kind, pid), lists(parent_kind)]
            if counts:
                grand_kind = self.parent_of(parent_kind)
                if grand_kind is not None:
                    if grandparent_id is None:
                        scopes.append(every(parent_kind))
                    else:
                        scopes.append(children(grand_kind, grandparent_id, parent_kind))
        if cascade:
            scopes += [every(descendant) for descendant in self.descendants(kind)]
        return tuple(dict.fromkeys(scopes))

    def _index(self, kind: str) -> int:
        try:
            return self.kinds.index(kind)
        except ValueError:
            raise ValueError(f"unknown kind {kind!r}; the hierarchy has {', '.join(self.kinds)}") from None

    def _check_child(self, parent_kind: str, kind: str) -> None:
        if self.parent_of(kind) != parent_kind:
            raise ValueError(f"{kind!r} is not a child kind of {parent_kind!r}")
