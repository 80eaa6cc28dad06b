"""Per-request data loading: every level of the tree becomes a few batched, concurrent upstream calls.

One ``Loaders`` per GraphQL request (a cache shared across callers would hand one caller's data to
another). It holds:

- ``by_id``: resources by id, from the store when a list already brought them, else batched into List
  Resources calls with an ``in`` filter on ``id``;
- ``events_by_category`` and ``properties_by_event``: children by ``(parent id, title filter)``, batched
  into List Resources calls with ``type`` + ``in`` on ``parent_id`` and the stable sort;
- ``store``: the newest copy of every resource seen in this request. Lists hold ids and read the store,
  so a mutation's result, or a deletion, shows in every later read of the same request.

Planning: the parents loaded one level up carry ``children_count``, so a batch knows how many children it
will get and fetches all the pages it needs at once — one sequential round per level of the tree. Where a
count is unknown (a title filter, a parent never loaded), page 1 comes first and the rest follow at once.
A response that shows more pages than planned is always followed to the end: correctness first.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, TypeVar

from aiodataloader import DataLoader

from ..settings import Settings
from ..upstream import (
    CATEGORY,
    EVENT,
    EVENT_PROPERTY,
    STABLE_SORT,
    Filter,
    NotFound,
    Page,
    Resource,
    UpstreamClient,
    UpstreamSession,
    UpstreamUnavailable,
    and_,
    exact,
    in_,
)
from .errors import MissingKey
from .pagination import Window

T = TypeVar("T")

#: ``(parent id, title filter or None)``: one children list of one parent.
ChildKey = tuple[str, str | None]
PageFetcher = Callable[[int], Awaitable[Page]]

#: The page number used when measuring a URL, long enough for any page a chunk will ask for.
_SIZING_PAGE: Final = 99_999

#: ``entity_type`` spellings, mapped onto the gateway's three kinds.
_KINDS: Final = {
    "category": CATEGORY,
    "event_category": CATEGORY,
    "event": EVENT,
    "event_property": EVENT_PROPERTY,
    "property": EVENT_PROPERTY,
}
#: The kind of a kind's children, and of its parent.
PARENT_KIND: Final = {EVENT: CATEGORY, EVENT_PROPERTY: EVENT}


def kind_of(resource: Resource) -> str | None:
    """The gateway kind of a resource, or ``None`` for a resource of another kind (a table, say)."""
    return _KINDS.get(str(resource.get("entity_type", "")).lower())


class PageSizeMemo:
    """The upstream's page size once a page has shown it; shared per client, since it is not caller data."""

    def __init__(self) -> None:
        self.size: int | None = None

    def learn(self, page: Page) -> None:
        """A page that has a next page is full, so its length is the page size."""
        if page.next_url and page.results:
            self.size = len(page.results)


_MEMOS: weakref.WeakKeyDictionary[UpstreamClient, PageSizeMemo] = weakref.WeakKeyDictionary()


def page_size_memo(client: UpstreamClient) -> PageSizeMemo:
    try:
        return _MEMOS.setdefault(client, PageSizeMemo())
    except TypeError:  # a client that cannot be weakly referenced learns per request instead
        return PageSizeMemo()


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A top-level list: one kind, with the filters the schema offers."""

    kind: str
    title: str | None = None
    parent_id: str | None = None
    integration_id: str | None = None


async def _settle(jobs: list[Awaitable[T]]) -> list[T | Exception]:
    """Run ``jobs`` at once; each one's failure stays its own (a loader hands it to its keys alone)."""
    outcomes = await asyncio.gather(*jobs, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome  # cancellation and exits are not a key's failure
    return outcomes  # type: ignore[return-value]  # BaseExceptions were re-raised above


class _StoreFirst(DataLoader[str, Resource | None]):
    """A by-id loader that answers from the request's store before its own cache or a batch.

    Every resource a list returns is in the store, so lookups after a list cost no call, without a
    primed future per listed object (which cost more than the rest of remembering it). A deletion still
    primes ``None``, which the store, having dropped the object, falls through to.
    """

    def __init__(self, store: dict[str, Resource], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._store = store

    def load(self, key: str) -> asyncio.Future[Resource | None]:
        resource = self._store.get(key)
        if resource is None:
            return super().load(key)
        found: asyncio.Future[Resource | None] = self.loop.create_future()
        found.set_result(resource)
        return found


class _CapReached(Exception):
    """A catalog filter matched more than List Resources serves; the caller narrows it."""


class Loaders:
    """The loaders and the resource store of one request."""

    def __init__(
        self,
        *,
        session: UpstreamSession | None,
        settings: Settings,
        memo: PageSizeMemo,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._session = session
        self.settings = settings
        self.memo = memo
        self.store: dict[str, Resource] = {}
        self.deleted: set[str] = set()
        self._lists: dict[tuple[str, str, str | None], list[str]] = {}
        self._windows: dict[tuple[ListQuery, Window], asyncio.Future[tuple[list[str], int]]] = {}
        # aiodataloader hands an Exception found in a batch's results to that key alone, as its failure;
        # its annotations do not say so, hence the ignores (``_StoreFirst`` takes its arguments untyped).
        self.by_id: DataLoader[str, Resource | None] = _StoreFirst(self.store, self._load_by_id, loop=loop)
        self.events_by_category: DataLoader[ChildKey, list[str]] = DataLoader(
            partial(self._load_children, EVENT),  # type: ignore[arg-type]
            loop=loop,
        )
        self.properties_by_event: DataLoader[ChildKey, list[str]] = DataLoader(
            partial(self._load_children, EVENT_PROPERTY),  # type: ignore[arg-type]
            loop=loop,
        )

    def release(self) -> None:
        """Drop everything this request loaded; it has answered and will read nothing more.

        The executor's state sits in a reference cycle that still holds the context after the answer, so
        without this every resource of the request would wait for the cycle collector, which would then
        have to walk all of them.
        """
        self.store.clear()
        self._lists.clear()
        self._windows.clear()
        for loader in (self.by_id, self.events_by_category, self.properties_by_event):
            loader.clear_all()

    # ---- the store -------------------------------------------------------------------------------

    @property
    def session(self) -> UpstreamSession:
        """The caller's upstream session; ``MissingKey`` (UNAUTHENTICATED) before any call without one."""
        if self._session is None:
            raise MissingKey
        return self._session

    def remember(self, resource: Resource) -> None:
        """Keep the newest copy of ``resource`` and prime the by-id loader with it."""
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or resource_id in self.deleted:
            return
        self.store[resource_id] = resource  # ``by_id`` reads the store first

    def resources(self, ids: Sequence[str]) -> list[Resource]:
        """The current copies of ``ids``, leaving out any deleted in this request."""
        store = self.store
        return [store[resource_id] for resource_id in ids if resource_id in store]

    def created(self, resource: Resource) -> None:
        """A new object: remember it and append it to its parent's lists already loaded in this request
        (top-level lists are read afresh)."""
        self._windows.clear()
        self.remember(resource)
        kind, parent_id = kind_of(resource), resource.get("parent")
        if kind is None or not isinstance(parent_id, str):
            return
        title = resource.get("title")
        for list_title in (None, title):
            ids = self._lists.get((kind, parent_id, list_title))
            if ids is not None and resource["id"] not in ids:
                ids.append(resource["id"])
        self._count_child(parent_id, +1)

    def updated(self, resource: Resource) -> None:
        """A changed object: later reads of this request see the new copy (top-level lists afresh)."""
        self._windows.clear()
        self.remember(resource)

    def deleted_now(self, resource_id: str) -> None:
        """Gone upstream: later reads of this request see no object, in lookups and in lists alike."""
        parent_id = self.store.get(resource_id, {}).get("parent")
        self._windows.clear()
        self.deleted.add(resource_id)
        self.store.pop(resource_id, None)
        self.by_id.clear(resource_id).prime(resource_id, None)
        if isinstance(parent_id, str):
            self._count_child(parent_id, -1)

    def _count_child(self, parent_id: str, change: int) -> None:
        parent = self.store.get(parent_id)
        if parent is not None and isinstance(parent.get("children_count"), int):
            self.remember({**parent, "children_count": max(0, parent["children_count"] + change)})

    async def children(self, kind: str, parent_id: str, title: str | None) -> list[Resource]:
        """The children of ``kind`` under one parent, in the stable order, through the batching loader."""
        loader = self.events_by_category if kind == EVENT else self.properties_by_event
        ids = await loader.load((parent_id, title))
        return self.resources(ids)

    # ---- by id -----------------------------------------------------------------------------------

    async def _load_by_id(self, ids: list[str]) -> list[Resource | Exception | None]:
        session = self.session
        if self.settings.batching == "per-parent":
            found = await _settle([self._get_one(session, resource_id) for resource_id in ids])
            for resource in found:
                if isinstance(resource, dict):
                    self.remember(resource)
            return list(found)
        chunks = self._chunks(ids, lambda chunk: in_("id", chunk), expected=lambda _: 1)
        batches = await _settle([self._catalog(in_("id", chunk), len(chunk)) for chunk in chunks])
        by_id: dict[str, Resource | Exception] = {}
        for chunk, batch in zip(chunks, batches, strict=True):
            if isinstance(batch, Exception):  # only this chunk's lookups fail
                by_id.update(dict.fromkeys(chunk, batch))
                continue
            for resource in batch:
                by_id[resource["id"]] = resource
                self.remember(resource)
        return [by_id.get(resource_id) for resource_id in ids]

    async def _get_one(self, session: UpstreamSession, resource_id: str) -> Resource | None:
        try:
            return await session.get_resource(resource_id)
        except NotFound:
            return None

    # ---- children by parent ----------------------------------------------------------------------

    async def _load_children(self, kind: str, keys: list[ChildKey]) -> list[list[str] | Exception]:
        self.session  # noqa: B018  # fail with UNAUTHENTICATED before planning anything
        found: dict[ChildKey, list[str]] = {key: [] for key in keys}
        failed: dict[ChildKey, Exception] = {}
        if self.settings.batching == "per-parent":
            lists = await _settle([self._children_of_one(kind, key) for key in keys])
            for key, outcome in zip(keys, lists, strict=True):
                if isinstance(outcome, Exception):
                    failed[key] = outcome
                else:
                    found[key] = self._take(outcome)
        else:
            by_title: dict[str | None, list[str]] = {}
            for parent_id, title in keys:
                by_title.setdefault(title, []).append(parent_id)
            chunks = [
                (title, chunk)
                for title, parents in by_title.items()
                for chunk in self._chunks(
                    parents,
                    lambda chunk, title=title: self._children_filter(kind, chunk, title),  # type: ignore[misc]
                    expected=self._children_count,
                )
            ]
            outcomes = await _settle([self._children_chunk(kind, chunk, title) for title, chunk in chunks])
            store, deleted = self.store, self.deleted
            for (title, chunk), outcome in zip(chunks, outcomes, strict=True):
                if isinstance(outcome, Exception):  # only this chunk's parents fail; the others still answer
                    failed.update({(parent_id, title): outcome for parent_id in chunk})
                    continue
                for resource in outcome:  # ``remember`` inlined: this loop sees every child of the level
                    parent = resource.get("parent")
                    ids = found.get((parent, title)) if isinstance(parent, str) else None
                    if ids is None:
                        continue
                    resource_id = resource["id"]
                    if resource_id not in deleted:
                        ids.append(resource_id)
                        if isinstance(resource_id, str):
                            store[resource_id] = resource
        for (parent_id, title), ids in found.items():
            if (parent_id, title) not in failed:
                self._lists[(kind, parent_id, title)] = ids
        return [failed.get(key) or found[key] for key in keys]

    def _take(self, resources: list[Resource]) -> list[str]:
        for resource in resources:
            self.remember(resource)
        return [resource["id"] for resource in resources if resource["id"] not in self.deleted]

    def _children_filter(self, kind: str, parents: list[str], title: str | None) -> Filter:
        operands = [exact("type", kind), in_("parent_id", parents)]
        if title is not None:
            operands.append(exact("title", title))
        return and_(*operands)

    def _children_count(self, parent_id: str) -> int | None:
        parent = self.store.get(parent_id)
        count = parent.get("children_count") if parent is not None else None
        return count if isinstance(count, int) else None

    async def _children_chunk(self, kind: str, parents: list[str], title: str | None) -> list[Resource]:
        counts = [self._children_count(parent_id) for parent_id in parents]
        expected = None if title is not None or None in counts else sum(c or 0 for c in counts)
        try:
            resources = await self._catalog(
                self._children_filter(kind, parents, title), expected, len(parents)
            )
        except _CapReached:
            if len(parents) == 1:  # more children than the catalog serves: the per-parent route has no cap
                return await self._children_of_one(kind, (parents[0], title))
            half = len(parents) // 2
            parts = await asyncio.gather(
                self._children_chunk(kind, parents[:half], title),
                self._children_chunk(kind, parents[half:], title),
            )
            return [resource for part in parts for resource in part]
        return resources

    async def _children_of_one(self, kind: str, key: ChildKey) -> list[Resource]:
        """One parent's children through its own route (the fallback for upstreams without the catalog)."""
        session = self.session
        parent_id, title = key
        lister = session.list_events if kind == EVENT else session.list_event_properties
        expected = self._children_count(parent_id) if title is None else None

        def fetch(page: int) -> Awaitable[Page]:
            return lister(parent_id=parent_id, title=title, page=page)

        resources, _ = await self._fetch_all(fetch, expected)
        return resources

    # ---- top-level lists -------------------------------------------------------------------------

    async def list_window(self, query: ListQuery, window: Window) -> tuple[list[Resource], int]:
        """The resources of ``window`` in a top-level list, and the list's total; asked twice in one
        request (two aliases), it is fetched once."""
        key = (query, window)
        task = self._windows.get(key)
        if task is None:
            task = self._windows[key] = asyncio.ensure_future(self._list_window(query, window))
        ids, total = await asyncio.shield(task)
        return self.resources(ids), total

    async def _list_window(self, query: ListQuery, window: Window) -> tuple[list[str], int]:
        """The ids of ``window`` in a top-level list, and the list's total.

        Only the pages covering the window are fetched: the first of them alone (its count tells how far
        the list goes, so no call is spent on a page past the end), then the others at once.
        """
        fetch = self._list_fetcher(query)
        pages: dict[int, Page | None] = {}
        for _ in range(3):  # a page size that changes under us is re-planned, a bounded number of times
            if self.memo.size is None:
                pages[1] = await self._page(fetch, 1)
                if self.memo.size is None:  # page 1 has no next page: it holds the whole list
                    return self._window_of(pages, range(1, 2), 0, window)
            size = self.memo.size
            head = window.offset // size + 1
            if head not in pages:
                pages[head] = await self._page(fetch, head)
            first = pages[head]
            if first is None:  # the window starts past the end: page 1 still tells the total
                total = pages.get(1) or await self._page(fetch, 1)
                return [], total.count if total is not None else 0
            if not self._consistent([first], size):
                pages = {}
                continue
            last = max(head, min(math.ceil(window.end / size), math.ceil(first.count / size)))
            wanted = range(head, last + 1)
            pages.update(await self._pages(fetch, [number for number in wanted if number not in pages]))
            if self._consistent([pages[number] for number in wanted], size):
                return self._window_of(pages, wanted, size, window)
            pages = {}
        raise UpstreamUnavailable("The upstream's page size kept changing while a list was read.")

    def _window_of(
        self, pages: dict[int, Page | None], wanted: range, size: int, window: Window
    ) -> tuple[list[str], int]:
        rows: list[Resource] = []
        count = 0
        for number in wanted:
            page = pages.get(number)
            if page is None:
                break
            rows.extend(page.results)
            count = max(count, page.count)
        start = window.offset - (wanted.start - 1) * size
        chosen = rows[start : start + window.first]
        for resource in chosen:
            self.remember(resource)
        return [resource["id"] for resource in chosen], count

    def _consistent(self, pages: list[Page | None], size: int) -> bool:
        """True when every full page is ``size`` long: the page numbers were mapped right."""
        for page in pages:
            if page is not None:
                self.memo.learn(page)
                if page.next_url and len(page.results) != size:
                    return False
        return True

    def _list_fetcher(self, query: ListQuery) -> PageFetcher:
        session = self.session
        if self.settings.batching == "per-parent":
            if query.kind == CATEGORY:
                return lambda page: session.list_event_categories(title=query.title, page=page)
            lister = session.list_events if query.kind == EVENT else session.list_event_properties
            return lambda page: lister(
                title=query.title, parent_id=query.parent_id, integration_id=query.integration_id, page=page
            )
        operands = [exact("type", query.kind)]
        if query.title is not None:
            operands.append(exact("title", query.title))
        if query.parent_id is not None:
            operands.append(exact("parent_id", query.parent_id))
        if query.integration_id is not None:
            operands.append(exact("integration_id", query.integration_id))
        catalog_filter = and_(*operands)
        return lambda page: session.list_resources(filter=catalog_filter, sort=STABLE_SORT, page=page)

    # ---- paging ----------------------------------------------------------------------------------

    async def _catalog(
        self, catalog_filter: Filter, expected: int | None, batch_size: int | None = None
    ) -> list[Resource]:
        session = self.session

        def fetch(page: int) -> Awaitable[Page]:
            return session.list_resources(
                filter=catalog_filter, sort=STABLE_SORT, page=page, batch_size=batch_size
            )

        resources, _ = await self._fetch_all(fetch, expected, cap=self.settings.catalog_cap)
        return resources

    async def _pages(self, fetch: PageFetcher, numbers: Sequence[int]) -> dict[int, Page | None]:
        """Several pages at once (one round)."""
        found = await asyncio.gather(*(self._page(fetch, number) for number in numbers))
        return dict(zip(numbers, found, strict=True))

    async def _page(self, fetch: PageFetcher, number: int) -> Page | None:
        """One page; ``None`` for a page past the end (the upstream answers 404 there)."""
        try:
            page = await fetch(number)
        except NotFound:
            if number == 1:
                raise
            return None
        if number > 1 and not page.results:  # past the end (the client reads that 404 as an empty page)
            return None
        self.memo.learn(page)
        return page

    async def _fetch_all(
        self, fetch: PageFetcher, expected: int | None, *, cap: int | None = None
    ) -> tuple[list[Resource], int]:
        """Every result of a paginated list, in order. With ``expected`` known, all the pages it needs are
        fetched at once; otherwise page 1 first, then the rest at once. More pages than planned are
        always fetched too. ``_CapReached`` when a catalog filter matches ``cap`` or more."""
        pages: dict[int, Page | None] = {}
        if expected is None:
            pages[1] = await self._page(fetch, 1)
            self._check_cap(pages[1], cap)
        elif expected > 0:
            size = self.memo.size or self.settings.page_size_hint
            planned = range(1, math.ceil(expected / size) + 1)
            pages.update(await self._pages(fetch, planned))
            self._check_cap(pages[1], cap)
        else:
            return [], 0
        while True:
            last = self._last_page(pages)
            if last is None:  # no total given: follow the opaque next link of the furthest page
                furthest = pages[max(pages)]
                next_url = furthest.next_url if furthest is not None else None
                if next_url is None:  # cannot happen: _last_page says the furthest page has a next link
                    break
                pages[max(pages) + 1] = await self.session.follow(next_url)
                continue
            missing = [number for number in range(1, last + 1) if number not in pages]
            if not missing:
                break
            pages.update(await self._pages(fetch, missing))
        seen: set[object] = set()
        results: list[Resource] = []
        count = 0
        for number in sorted(pages):
            page = pages[number]
            if page is None:
                continue
            count = max(count, page.count)
            for resource in page.results:
                resource_id = resource.get("id")
                if resource_id not in seen:
                    seen.add(resource_id)
                    results.append(resource)
        return results, count

    @staticmethod
    def _check_cap(page: Page | None, cap: int | None) -> None:
        if cap is not None and page is not None and page.count >= cap:
            raise _CapReached

    @staticmethod
    def _last_page(pages: dict[int, Page | None]) -> int | None:
        """The number of the list's last page, from what the fetched pages say; ``None`` if unknowable."""
        last = 0
        for number, page in pages.items():
            if page is None:
                continue
            if page.total_pages is not None:
                last = max(last, page.total_pages)
            elif page.next_url:
                if number + 1 not in pages:
                    return None
            else:
                last = max(last, number)
        return max(last, 1)

    # ---- chunking --------------------------------------------------------------------------------

    def _chunks(
        self,
        keys: list[str],
        make_filter: Callable[[list[str]], Filter],
        *,
        expected: Callable[[str], int | None],
    ) -> list[list[str]]:
        """Split ``keys`` so that each chunk's URL stays under ``max_url_bytes`` and its known result
        count under ``catalog_cap``."""
        if not keys:
            return []
        session = self.session
        max_bytes, cap = self.settings.max_url_bytes, self.settings.catalog_cap

        def length(chunk: list[str]) -> int:
            return session.resources_url_length(
                filter=make_filter(chunk), sort=STABLE_SORT, page=_SIZING_PAGE
            )

        base = length(keys[:1])
        step = length(keys[:2]) - base if len(keys) > 1 else 0
        capacity = len(keys) if step <= 0 else max(1, 1 + (max_bytes - base) // step)
        chunks: list[list[str]] = []
        current: list[str] = []
        current_count = 0
        for key in keys:
            count = expected(key) or 0
            if current and (len(current) >= capacity or current_count + count >= cap):
                chunks.append(current)
                current, current_count = [], 0
            current.append(key)
            current_count += count
        chunks.append(current)
        # ids of unequal length would break the step estimate: measure, and halve any chunk still too long
        checked: list[list[str]] = []
        while chunks:
            chunk = chunks.pop(0)
            if len(chunk) > 1 and length(chunk) > max_bytes:
                half = len(chunk) // 2
                chunks[:0] = [chunk[:half], chunk[half:]]
            else:
                checked.append(chunk)
        return checked
