"""The resources of one request: the newest copy of everything seen, what was deleted, the children lists.

Lists hold ids and read the store, so a mutation's result, or a deletion, shows in every later read of the
same request. Nothing here outlives the request (``clear`` drops it all once the answer is out).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..upstream import Resource
from .kinds import kind_of
from .lists import ListSpec


class RequestStore:
    """The newest copy of every resource one request has seen, and the children lists it loaded.

    Attributes:
        objects: resources by id (the by-id loader reads it before asking the upstream).
        deleted: ids deleted in this request; never stored again, whatever a later page says.
    """

    __slots__ = ("_lists", "deleted", "objects")

    def __init__(self) -> None:
        self.objects: dict[str, Resource] = {}
        self.deleted: set[str] = set()
        #: ``(kind, parent id)`` → spec → child ids; the very lists the children loaders hand out.
        self._lists: dict[tuple[str, str], dict[ListSpec, list[str]]] = {}

    def clear(self) -> None:
        self.objects.clear()
        self._lists.clear()

    def get(self, resource_id: str) -> Resource | None:
        return self.objects.get(resource_id)

    def remember(self, resource: Resource) -> None:
        """Keep the newest copy of ``resource`` (unless it was deleted in this request)."""
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or resource_id in self.deleted:
            return
        self.objects[resource_id] = resource

    def resources(self, ids: Sequence[str]) -> list[Resource]:
        """The current copies of ``ids``, leaving out any deleted in this request."""
        objects = self.objects
        return [objects[resource_id] for resource_id in ids if resource_id in objects]

    def children_count(self, parent_id: str) -> int | None:
        """The parent's ``children_count`` as last seen, when this request has seen the parent."""
        parent = self.objects.get(parent_id)
        count = parent.get("children_count") if parent is not None else None
        return count if isinstance(count, int) else None

    def keep_children(self, kind: str, parent_id: str, spec: ListSpec, children: list[Resource]) -> list[str]:
        """Store a loaded children list; its ids (deleted ones left out) are the list, kept for writes."""
        objects, deleted = self.objects, self.deleted
        ids: list[str] = []
        for resource in children:  # ``remember`` inlined: this loop sees every child of a level
            resource_id = resource["id"]
            if resource_id not in deleted:
                ids.append(resource_id)
                if isinstance(resource_id, str):
                    objects[resource_id] = resource
        self._lists.setdefault((kind, parent_id), {})[spec] = ids
        return ids

    # ---- writes ----------------------------------------------------------------------------------

    def created(self, resource: Resource) -> None:
        """A new object: remember it and add it to its parent's lists already loaded that it matches."""
        self.remember(resource)
        parent_id = resource.get("parent")
        if self._place(resource, newest=True) and isinstance(parent_id, str):
            self._count_child(parent_id, +1)

    def updated(self, resource: Resource) -> None:
        """A changed object: later reads of this request see the new copy, in or out of its parent's lists
        already loaded as its new values match their filters, at its place in their order."""
        self.remember(resource)
        self._place(resource)

    def _place(self, resource: Resource, *, newest: bool = False) -> bool:
        """Put ``resource`` where it belongs in its parent's lists already loaded: in those whose spec it
        matches (at its place in their order; ``newest``, a new object, goes last in the stable order),
        out of the others. False when it has no kind or parent."""
        kind, parent_id, resource_id = kind_of(resource), resource.get("parent"), resource.get("id")
        if kind is None or not isinstance(parent_id, str) or not isinstance(resource_id, str):
            return False
        for spec, ids in self._lists.get((kind, parent_id), {}).items():
            present = resource_id in ids
            if not spec.matches(resource):
                if present:
                    ids.remove(resource_id)
                continue
            if not present:
                ids.append(resource_id)
            if spec.order or not (present or newest):  # new values in an order of its own, or a member
                # that was left out until now
                ids[:] = [member["id"] for member in spec.ordered(self.resources(ids))]
        return True

    def deleted_now(self, resource_id: str) -> None:
        """Gone upstream: later reads of this request see no object, and its parent one child fewer."""
        parent_id = self.objects.get(resource_id, {}).get("parent")
        self.deleted.add(resource_id)
        self.objects.pop(resource_id, None)
        if isinstance(parent_id, str):
            self._count_child(parent_id, -1)

    def _count_child(self, parent_id: str, change: int) -> None:
        parent = self.objects.get(parent_id)
        if parent is not None and isinstance(parent.get("children_count"), int):
            self.remember({**parent, "children_count": max(0, parent["children_count"] + change)})
