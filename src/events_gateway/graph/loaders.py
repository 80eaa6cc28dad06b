"""Per-request data loading: every level of the tree becomes a few batched, concurrent upstream calls.

One ``Loaders`` per GraphQL request (a cache shared across callers would hand one caller's data to
another); resolvers use it alone. It wires together:

- ``store`` (``store.py``): the newest copy of every resource seen in this request, and the children lists;
- the planner (``planner.py``): what the keys a level asked for become in this round, and the levels
  read ahead, by type alone, below a top-level list whose selection allows it;
- the batching strategy (``batching.py``): how a round reaches the upstream, chosen once from settings;
- the paging engine below it (``upstream.paging``): pages, counts, the cap, URL lengths.

Its loaders: ``by_id`` (resources by id, from the store when a list already brought them, else batched),
``events_by_category`` and ``properties_by_event`` (children by ``(parent id, ListSpec)``), and
``list_window`` for top-level lists. Writes go through ``created``, ``updated`` and ``deleted_now`` so
that later reads of the same request see them.

The only thing kept across requests is what the planner remembers of list sizes, per key (``counts``,
``upstream.KeyCounts``): sizes, never objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import Any

from aiodataloader import DataLoader

from ..settings import Settings
from ..upstream import EVENT, EVENT_PROPERTY, KeyCounts, Resource, UpstreamSession
from .batching import Batching, batching_for
from .errors import MissingKey
from .lists import ChildKey, ListQuery, ListSpec
from .pagination import Window
from .planner import ChildBatch, Planner
from .selection import NestedList
from .store import RequestStore


class _StoreFirst(DataLoader[str, Resource | None]):
    """A by-id loader that answers from the request's store before its own cache or a batch.

    Every resource a list returns is in the store, so lookups after a list cost no call, without a
    primed future per listed object (which cost more than the rest of remembering it). A deletion still
    primes ``None``, which the store, having dropped the object, falls through to.
    """

    def __init__(self, objects: dict[str, Resource], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._objects = objects

    def load(self, key: str) -> asyncio.Future[Resource | None]:
        resource = self._objects.get(key)
        if resource is None:
            return super().load(key)
        found: asyncio.Future[Resource | None] = self.loop.create_future()
        found.set_result(resource)
        return found


class Loaders:
    """The loaders and the resource store of one request."""

    def __init__(
        self,
        *,
        session: UpstreamSession | None,
        settings: Settings,
        loop: asyncio.AbstractEventLoop,
        counts: KeyCounts | None = None,
    ) -> None:
        self._session = session
        self.store = RequestStore()
        self._batching = batching_for(settings, session) if session is not None else None
        ahead = settings.plan_ahead and self._batching is not None and self._batching.reads_by_type
        self._planner = Planner(self.store, ahead=ahead, counts=counts)
        self._windows: dict[tuple[ListQuery, Window], asyncio.Future[tuple[list[str], int]]] = {}
        #: The children lists each top-level window's selection asks for, gathered from every alias of it
        #: before its read starts.
        self._nested: dict[tuple[ListQuery, Window], list[NestedList]] = {}
        # aiodataloader hands an Exception found in a batch's results to that key alone, as its failure;
        # its annotations do not say so, hence the ignores (``_StoreFirst`` takes its arguments untyped).
        self.by_id: DataLoader[str, Resource | None] = _StoreFirst(
            self.store.objects, self._load_by_id, loop=loop
        )
        self.events_by_category: DataLoader[ChildKey, list[str]] = DataLoader(
            partial(self._load_children, EVENT),  # type: ignore[arg-type]
            loop=loop,
        )
        self.properties_by_event: DataLoader[ChildKey, list[str]] = DataLoader(
            partial(self._load_children, EVENT_PROPERTY),  # type: ignore[arg-type]
            loop=loop,
        )

    def project(self, keys: frozenset[str] | None) -> None:
        """Decode list pages with only ``keys`` of their resources (``None``: all; ``projection``)."""
        if self._session is not None:
            self._session.project(keys)

    def release(self) -> None:
        """Drop everything this request loaded; it has answered and will read nothing more.

        The executor's state sits in a reference cycle that still holds the context after the answer, so
        without this every resource of the request would wait for the cycle collector, which would then
        have to walk all of them.
        """
        self.store.clear()
        self._windows.clear()
        self._nested.clear()
        self._planner.release()
        for loader in (self.by_id, self.events_by_category, self.properties_by_event):
            loader.clear_all()

    @property
    def session(self) -> UpstreamSession:
        """The caller's upstream session; ``MissingKey`` (UNAUTHENTICATED) before any call without one."""
        if self._session is None:
            raise MissingKey
        return self._session

    @property
    def plans_ahead(self) -> bool:
        """Whether the planner may read levels ahead (``list_window`` then wants its ``nested``)."""
        return self._planner.ahead

    @property
    def batching(self) -> Batching:
        """How this request fetches; ``MissingKey`` (UNAUTHENTICATED) when it has no key to fetch with."""
        if self._batching is None:
            raise MissingKey
        return self._batching

    # ---- reads -----------------------------------------------------------------------------------

    async def children(self, kind: str, parent_id: str, spec: ListSpec) -> list[Resource]:
        """The children of ``kind`` under one parent that ``spec`` keeps, through the batching loader."""
        loader = self.events_by_category if kind == EVENT else self.properties_by_event
        ids = await loader.load((parent_id, spec))
        return self.store.resources(ids)

    async def list_window(
        self, query: ListQuery, window: Window, nested: Sequence[NestedList] = ()
    ) -> tuple[list[Resource], int]:
        """The resources of ``window`` in a top-level list, and the list's total; asked twice in one
        request (two aliases), it is fetched once. ``nested``: the children lists the operation selects
        on its objects, which the planner may read ahead alongside it."""
        key = (query, window)
        self._nested.setdefault(key, []).extend(nested)
        task = self._windows.get(key)
        if task is None:
            task = self._windows[key] = asyncio.ensure_future(self._list_window(query, window))
        ids, total = await asyncio.shield(task)
        return self.store.resources(ids), total

    async def _list_window(self, query: ListQuery, window: Window) -> tuple[list[str], int]:
        # Runs once the resolvers of this tick have called ``list_window``: every alias's selection is in.
        batching, planner = self.batching, self._planner
        plan = planner.tree(
            query,
            window,
            self._nested.pop((query, window), ()),
            pager=batching.pager,
            pages_of=batching.list_pages,
        )
        try:
            resources, total = await batching.window(
                query,
                window.offset,
                window.first,
                watch=plan.watch if plan is not None else None,
                expected=planner.expected(query),
            )
        finally:
            if plan is not None:
                plan.finished()
        planner.listed(query, total)
        for resource in resources:
            self.store.remember(resource)
        return [resource["id"] for resource in resources], total

    async def _load_by_id(self, ids: list[str]) -> list[Resource | Exception | None]:
        found = await self.batching.by_ids(ids)
        for resource in found:
            if isinstance(resource, dict):
                self.store.remember(resource)
        return found

    async def _load_children(self, kind: str, keys: list[ChildKey]) -> list[list[str] | Exception]:
        batching = self.batching  # fail with UNAUTHENTICATED before planning anything
        batches = self._planner.children(kind, keys)
        outcomes = await asyncio.gather(*(self._batch(batching, batch) for batch in batches))
        found: dict[ChildKey, list[str] | Exception] = {}
        store = self.store
        for batch, lists in zip(batches, outcomes, strict=True):
            spec = batch.spec
            for parent_id, outcome in zip(batch.parents, lists, strict=True):
                if isinstance(outcome, Exception):
                    found[(parent_id, spec)] = outcome
                else:
                    found[(parent_id, spec)] = store.keep_children(kind, parent_id, spec, outcome)
        return [found[key] for key in keys]

    @staticmethod
    async def _batch(batching: Batching, batch: ChildBatch) -> list[list[Resource] | Exception]:
        """A batch's children: from the level's read ahead when it was made, else the usual way."""
        if batch.ahead is not None:
            grouped = await asyncio.shield(batch.ahead)
            if grouped is not None:
                return [grouped.get(parent_id, []) for parent_id in batch.parents]
        return await batching.children(batch)

    # ---- writes ----------------------------------------------------------------------------------

    def created(self, resource: Resource) -> None:
        """A new object: later reads see it, in its parent's lists already loaded too (top-level lists
        are read afresh)."""
        self._windows.clear()
        self.store.created(resource)

    def updated(self, resource: Resource) -> None:
        """A changed object: later reads of this request see the new copy (top-level lists afresh)."""
        self._windows.clear()
        self.store.updated(resource)

    def deleted_now(self, resource_id: str) -> None:
        """Gone upstream: later reads of this request see no object, in lookups and in lists alike."""
        self._windows.clear()
        self.store.deleted_now(resource_id)
        self.by_id.clear(resource_id).prime(resource_id, None)
