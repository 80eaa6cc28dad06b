"""How one round's fetches reach the upstream: through List Resources (``catalog``), or through the
per-parent list routes (``per-parent``, for an upstream whose catalog cannot serve). Chosen once per
request from ``Settings.batching``; the loaders never ask which.

Both strategies answer the same three questions: these objects by id, these parents' children, that window
of a top-level list. Each failure stays with the keys it concerns: a failed chunk fails only its ids or
its parents, as an ``Exception`` in their place, and the loaders hand it to those keys alone.

Filters and order: the catalog strategy sends a list's whole ``ListSpec`` as one List Resources filter and
sort. The per-parent routes take a title (and the children's routes an integration) alone, so the
per-parent strategy asks its route for what it takes and finishes the rest locally (``ListSpec.arrange``):
a children list is read whole anyway; a top-level list then is read whole too before its window is cut.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from ..settings import Settings
from ..upstream import (
    CATEGORY,
    EVENT,
    CapReached,
    Filter,
    NotFound,
    Page,
    PageFetcher,
    Pager,
    PagingLimits,
    Resource,
    UpstreamSession,
    exact,
    in_,
)
from .lists import ListQuery
from .planner import ChildBatch

T = TypeVar("T")


class Batching(Protocol):
    """How a round is fetched."""

    @property
    def pager(self) -> Pager:
        """The paging engine it fetches with (over one caller's session)."""
        ...

    @property
    def reads_by_type(self) -> bool:
        """Whether a level may be read by type alone, through ``list_pages`` of its kind, and grouped by
        parent (the planner's reads ahead): the same children, in the same order, as ``children``."""
        ...

    async def by_ids(self, ids: Sequence[str]) -> list[Resource | Exception | None]:
        """The resources of ``ids``, in order; ``None`` where no object has the id."""
        ...

    async def children(self, batch: ChildBatch) -> list[list[Resource] | Exception]:
        """Each parent's children in ``batch`` (in ``batch.parents`` order), each in the list's order."""
        ...

    def list_pages(self, query: ListQuery) -> PageFetcher:
        """Page ``n`` of a top-level list as the strategy's route gives it."""
        ...

    async def window(
        self,
        query: ListQuery,
        offset: int,
        first: int,
        *,
        watch: Callable[[PageFetcher], PageFetcher] | None = None,
        expected: int | None = None,
    ) -> tuple[list[Resource], int]:
        """The resources ``[offset, offset + first)`` of a top-level list, and the list's total; ``watch``
        lets the planner see each page as it lands, ``expected`` is the list's remembered size."""
        ...


def batching_for(settings: Settings, session: UpstreamSession) -> Batching:
    """The strategy ``settings.batching`` names, over one caller's session."""
    pager = Pager(
        session,
        PagingLimits(
            page_size_hint=settings.page_size_hint,
            max_url_bytes=settings.max_url_bytes,
            catalog_cap=settings.catalog_cap,
        ),
    )
    per_parent = PerParentBatching(pager)
    return per_parent if settings.batching == "per-parent" else CatalogBatching(pager, per_parent)


async def _settle(jobs: Sequence[Awaitable[T]]) -> list[T | Exception]:
    """Run ``jobs`` at once; each one's failure stays its own (a loader hands it to its keys alone)."""
    outcomes = await asyncio.gather(*jobs, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome  # cancellation and exits are not a key's failure
    return outcomes  # type: ignore[return-value]  # BaseExceptions were re-raised above


class PerParentBatching:
    """One call per object and one list per parent, deduplicated and concurrent: every route the
    upstream documents, no catalog needed."""

    __slots__ = ("_session", "pager")

    #: Kept to one list per parent: the fallback for an upstream whose catalog cannot serve reads
    #: nothing else, nothing ahead.
    reads_by_type = False

    def __init__(self, pager: Pager) -> None:
        self.pager = pager
        self._session = pager.session

    async def by_ids(self, ids: Sequence[str]) -> list[Resource | Exception | None]:
        return await _settle([self._get_one(resource_id) for resource_id in ids])

    async def _get_one(self, resource_id: str) -> Resource | None:
        try:
            return await self._session.get_resource(resource_id)
        except NotFound:
            return None

    async def children(self, batch: ChildBatch) -> list[list[Resource] | Exception]:
        return await _settle([self.children_of(batch, parent_id) for parent_id in batch.parents])

    async def children_of(self, batch: ChildBatch, parent_id: str) -> list[Resource]:
        """One parent's children through its own route, which has no cap; what the route cannot filter
        or order is done here."""
        session = self._session
        spec = batch.spec
        lister = session.list_events if batch.kind == EVENT else session.list_event_properties
        filters = spec.route_filters()

        def fetch(page: int) -> Awaitable[Page]:
            return lister(parent_id=parent_id, page=page, **filters)

        if spec.route_serves(batch.kind):
            return await self.pager.every(fetch, batch.expected([parent_id]))
        # Without route filters the route gives every child, whose number the parent's count is.
        every_child = not any(filters.values())
        children = await self.pager.every(fetch, batch.bound(parent_id) if every_child else None)
        return spec.arrange(children)

    def list_pages(self, query: ListQuery) -> PageFetcher:
        session = self._session
        filters = query.spec.route_filters()
        if query.kind == CATEGORY:
            title = filters["title"]
            return lambda page: session.list_event_categories(title=title, page=page)
        lister = session.list_events if query.kind == EVENT else session.list_event_properties
        return lambda page: lister(parent_id=query.parent_id, page=page, **filters)

    async def window(
        self,
        query: ListQuery,
        offset: int,
        first: int,
        *,
        watch: Callable[[PageFetcher], PageFetcher] | None = None,
        expected: int | None = None,
    ) -> tuple[list[Resource], int]:
        if query.spec.route_serves(query.kind):
            fetch = self.list_pages(query)
            return await self.pager.window(watch(fetch) if watch else fetch, offset, first, expected=expected)
        # The route cannot filter or order this list: read it whole, then finish and cut it here.
        members = query.spec.arrange(await self.pager.every(self.list_pages(query), None))
        return members[offset : offset + first], len(members)


class CatalogBatching:
    """Every round through List Resources: ids and parents go into ``in`` filters, chunked so each URL
    and each filter's result count stay within the upstream's limits."""

    __slots__ = ("_fallback", "pager")

    #: ``type = kind`` in the same stable order holds each parent's children as ``children`` reads them.
    reads_by_type = True

    def __init__(self, pager: Pager, fallback: PerParentBatching) -> None:
        self.pager = pager
        #: For the one parent with more children than the catalog serves.
        self._fallback = fallback

    async def by_ids(self, ids: Sequence[str]) -> list[Resource | Exception | None]:
        pager = self.pager
        chunks = pager.chunks(ids, lambda chunk: in_("id", chunk), bound=lambda _: 1)
        batches = await _settle([pager.catalog(in_("id", chunk), len(chunk)) for chunk in chunks])
        by_id: dict[str, Resource | Exception] = {}
        for chunk, batch in zip(chunks, batches, strict=True):
            if isinstance(batch, Exception):  # only this chunk's lookups fail
                by_id.update(dict.fromkeys(chunk, batch))
                continue
            for resource in batch:
                by_id[resource["id"]] = resource
        return [by_id.get(resource_id) for resource_id in ids]

    async def children(self, batch: ChildBatch) -> list[list[Resource] | Exception]:
        chunks = self.pager.chunks(
            batch.parents,
            lambda chunk: self._filter(batch, chunk),
            bound=batch.bound,
            sort=batch.spec.catalog_sort(),
        )
        outcomes = await _settle([self._chunk(batch, chunk) for chunk in chunks])
        found: dict[str, list[Resource] | Exception] = {}
        for chunk, outcome in zip(chunks, outcomes, strict=True):
            if isinstance(outcome, Exception):  # only this chunk's parents fail; the others still answer
                # (the place to narrow a failure further: retry these parents one by one, per parent)
                found.update(dict.fromkeys(chunk, outcome))
                continue
            lists: dict[str, list[Resource]] = {parent_id: [] for parent_id in chunk}
            for resource in outcome:
                parent = resource.get("parent")
                children = lists.get(parent) if isinstance(parent, str) else None
                if children is not None:
                    children.append(resource)
            found.update(lists)
        return [found[parent_id] for parent_id in batch.parents]

    @staticmethod
    def _filter(batch: ChildBatch, parents: list[str]) -> Filter:
        return batch.spec.catalog_filter(exact("type", batch.kind), in_("parent_id", parents))

    async def _chunk(self, batch: ChildBatch, parents: list[str]) -> list[Resource]:
        """The children of one chunk of parents; a chunk over the cap is halved until it fits."""
        try:
            return await self.pager.catalog(
                self._filter(batch, parents),
                batch.expected(parents),
                sort=batch.spec.catalog_sort(),
                batch_size=len(parents),
            )
        except CapReached:
            if len(parents) == 1:  # more children than the catalog serves: the per-parent route has no cap
                return await self._fallback.children_of(batch, parents[0])
            half = len(parents) // 2
            parts = await asyncio.gather(
                self._chunk(batch, parents[:half]), self._chunk(batch, parents[half:])
            )
            return [resource for part in parts for resource in part]

    def list_pages(self, query: ListQuery) -> PageFetcher:
        scope = [exact("type", query.kind)]
        if query.parent_id is not None:
            scope.append(exact("parent_id", query.parent_id))
        return self.pager.catalog_pages(query.spec.catalog_filter(*scope), query.spec.catalog_sort())

    async def window(
        self,
        query: ListQuery,
        offset: int,
        first: int,
        *,
        watch: Callable[[PageFetcher], PageFetcher] | None = None,
        expected: int | None = None,
    ) -> tuple[list[Resource], int]:
        fetch = self.list_pages(query)
        return await self.pager.window(watch(fetch) if watch else fetch, offset, first, expected=expected)
