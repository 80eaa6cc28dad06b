"""How one round's fetches reach the upstream: through List Resources (``catalog``), or through the
per-parent list routes (``per-parent``, for an upstream whose catalog cannot serve). Chosen once per
request from ``Settings.batching``; the loaders never ask which.

Both strategies answer the same three questions: these objects by id, these parents' children, that window
of a top-level list. Each failure stays with the keys it concerns: a failed chunk fails only its ids or
its parents, as an ``Exception`` in their place, and the loaders hand it to those keys alone.

The catalog strategy narrows a failure further, to the keys one failed page could hold (``_sort_out``):
it asks for batched children sorted by parent (then in the list's own order) and for lookups sorted by
id, so that the pages that came bound what a failed one held. Those keys alone are asked again through
the per-parent routes when the upstream could not answer (``UpstreamUnreachable``), before their failure
is handed on; every other key's answer is whole. The budget (``cost.py``) counts the calls planned; these
are extra calls made only on a failure.

Filters and order: the catalog strategy sends a list's whole ``ListSpec`` as one List Resources filter and
sort. The per-parent routes take a title (and the children's routes an integration) alone, so the
per-parent strategy asks its route for what it takes and finishes the rest locally (``ListSpec.arrange``):
a children list is read whole anyway; a top-level list then is read whole too before its window is cut.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Final, Protocol, TypeVar

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
    Sort,
    UpstreamSession,
    UpstreamUnreachable,
    exact,
    in_,
    sort,
)
from .lists import ListQuery, ListSpec
from .planner import ChildBatch

T = TypeVar("T")
V = TypeVar("V")

#: Lookups by id come in id order, so the ids a failed page could hold are known (``_sort_out``).
_BY_ID: Final = sort("id", "asc")


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


def _by_key(
    chunks: Sequence[Sequence[str]], outcomes: Sequence[Mapping[str, V] | Exception]
) -> dict[str, V | Exception]:
    """Each settled chunk's answers by key; a failed chunk's keys carry its failure (only they fail)."""
    merged: dict[str, V | Exception] = {}
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        if isinstance(outcome, Exception):
            merged.update(dict.fromkeys(chunk, outcome))
        else:
            merged.update(outcome)
    return merged


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
        #: For a parent with more children than the catalog serves, and for the keys of a failed page.
        self._fallback = fallback

    async def by_ids(self, ids: Sequence[str]) -> list[Resource | Exception | None]:
        chunks = self.pager.chunks(ids, lambda chunk: in_("id", chunk), bound=lambda _: 1, sort=_BY_ID)
        by_id = _by_key(chunks, await _settle([self._ids(chunk) for chunk in chunks]))
        return [by_id.get(resource_id) for resource_id in ids]

    async def _ids(self, ids: list[str]) -> dict[str, Resource | Exception | None]:
        """One chunk of lookups; the ids a failed page could hold are asked again one by one."""
        parts = await self.pager.catalog_parts(in_("id", ids), len(ids), sort=_BY_ID)
        found, held = _sort_out(ids, parts, key_of=_id_of, spans_pages=False)
        by_id: dict[str, Resource | Exception | None] = {
            resource_id: resources[0] if resources else None for resource_id, resources in found.items()
        }
        by_id.update(held)
        again = [resource_id for resource_id, failure in held.items() if _worth_asking_again(failure)]
        if again:
            by_id.update(zip(again, await self._fallback.by_ids(again), strict=True))
        return by_id

    async def children(self, batch: ChildBatch) -> list[list[Resource] | Exception]:
        chunks = self.pager.chunks(
            batch.parents,
            lambda chunk: self._filter(batch, chunk),
            bound=batch.bound,
            sort=_by_parent(batch.spec),
        )
        found = _by_key(chunks, await _settle([self._chunk(batch, chunk) for chunk in chunks]))
        return [found[parent_id] for parent_id in batch.parents]

    @staticmethod
    def _filter(batch: ChildBatch, parents: list[str]) -> Filter:
        return batch.spec.catalog_filter(exact("type", batch.kind), in_("parent_id", parents))

    async def _chunk(self, batch: ChildBatch, parents: list[str]) -> dict[str, list[Resource] | Exception]:
        """Each parent's children in one chunk; a chunk over the cap is halved until it fits."""
        try:
            parts = await self.pager.catalog_parts(
                self._filter(batch, parents),
                batch.expected(parents),
                sort=_by_parent(batch.spec),
                batch_size=len(parents),
            )
        except CapReached:
            if len(parents) == 1:  # more children than the catalog serves: the per-parent route has no cap
                return await self._per_parent(batch, parents)
            half = len(parents) // 2
            first, second = await asyncio.gather(
                self._chunk(batch, parents[:half]), self._chunk(batch, parents[half:])
            )
            return {**first, **second}
        found, held = _sort_out(parents, parts, key_of=_parent_of, spans_pages=True)
        lists: dict[str, list[Resource] | Exception] = dict(found)
        for parent_id in [parent_id for parent_id in held if batch.bound(parent_id) == 0]:
            del held[parent_id]  # no child at all (its count says so): on no page, failed or not
            lists[parent_id] = []
        again = [parent_id for parent_id, failure in held.items() if _worth_asking_again(failure)]
        lists.update(held)
        if again:
            lists.update(await self._per_parent(batch, again))
        return lists

    async def _per_parent(
        self, batch: ChildBatch, parents: list[str]
    ) -> dict[str, list[Resource] | Exception]:
        """These parents' children through their own routes, each failure its own."""
        outcomes = await _settle([self._fallback.children_of(batch, parent_id) for parent_id in parents])
        return dict(zip(parents, outcomes, strict=True))

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


def _by_parent(spec: ListSpec) -> Sort:
    """Batched children grouped by parent, each parent's in the list's own order (then id), so the parents
    a failed page could hold are known (``_sort_out``); the lists cut from it are the same either way."""
    return sort("parent_id", "asc", spec.catalog_sort())


def _parent_of(resource: Resource) -> object:
    return resource.get("parent")


def _id_of(resource: Resource) -> object:
    return resource.get("id")


def _worth_asking_again(failure: Exception) -> bool:
    """A page the upstream could not answer (a 5xx, a cut or unreadable answer, a timeout) may come by
    another route; a refusal (a bad filter, a key, a rate limit) would only be repeated."""
    return isinstance(failure, UpstreamUnreachable)


def _sort_out(
    keys: Sequence[str],
    parts: Sequence[list[Resource] | Exception],
    *,
    key_of: Callable[[Resource], object],
    spans_pages: bool,
) -> tuple[dict[str, list[Resource]], dict[str, Exception]]:
    """Each key's results out of the pages ``parts`` of a list sorted by key, and the keys a failed page
    could hold, with its failure: their results are not known whole.

    A failed page holds keys from the last key of the pages before it to the first key of the pages after
    it (the nearest that came, so a failed neighbour widens the range); the two ends themselves only when
    one key's results can run on from one page into the next (``spans_pages``). A key seen in the pages
    that came, other than at such an end, is whole, whatever the order. A key seen nowhere is placed by
    its text: the upstream sorts ids as their lowercase hyphenated text (which is also the order of the
    UUIDs' bytes). Where the pages that came are out of that order, no page's range is known, and every
    key not known whole is held.
    """
    found: dict[str, list[Resource]] = {key: [] for key in keys}
    failures = [part for part in parts if isinstance(part, Exception)]
    # With a failure, the list as a run of keys, one per result, and of failed pages (``None``), in order.
    run: list[str | None] = []
    ordered = True
    for part in parts:
        if isinstance(part, Exception):
            run.append(None)
            continue
        for resource in part:
            key = key_of(resource)
            if not isinstance(key, str):
                ordered = False
                continue
            children = found.get(key)
            if children is not None:
                children.append(resource)
            if failures:
                run.append(key)
    if not failures:
        return found, {}
    held: dict[str, Exception] = {}
    if not ordered or not _ascending(key for key in run if key is not None):
        for key in keys:
            if spans_pages or not found[key]:
                held.setdefault(key, failures[0])
    else:
        for (low, high), failure in zip(_ranges(run), failures, strict=True):
            for key in keys:
                if key in held:
                    continue
                if found[key]:
                    if spans_pages and key in (low, high):
                        held[key] = failure
                elif (low is None or low < key) and (high is None or key < high):
                    held[key] = failure
    for key in held:
        del found[key]
    return found, held


def _ascending(keys: Iterable[str]) -> bool:
    previous = ""
    for key in keys:
        if key < previous:
            return False
        previous = key
    return True


def _ranges(run: list[str | None]) -> list[tuple[str | None, str | None]]:
    """For each failed page (``None``) in ``run``, the last key before it and the first after it
    (``None``: the list's start or end)."""
    lows: list[str | None] = []
    last: str | None = None
    for key in run:
        if key is None:
            lows.append(last)
        else:
            last = key
    highs: list[str | None] = []
    following: str | None = None
    for key in reversed(run):
        if key is None:
            highs.append(following)
        else:
            following = key
    return list(zip(lows, reversed(highs), strict=True))
