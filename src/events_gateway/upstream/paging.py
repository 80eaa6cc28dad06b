"""The paging engine: every page a list needs, in as few sequential rounds as the counts allow.

The upstream serves lists a page at a time, behind an envelope (``count``, ``total_pages``, an opaque next
link) and, for List Resources, a 10,000-result cap and URLs that must stay under 8 KB. This module is
where all of that is known; callers above it ask for "every result of this list" or "this window of that
list" and get resources back.

- ``Pager.every``: all of a list. With the expected result count known, all its pages are asked for at
  once (one round); otherwise page 1 first, then the rest at once. A response that shows more pages than
  planned is always followed to the end: correctness first. ``first_pages`` and ``rest`` are its two
  halves, for a caller that decides on page 1's count whether to read on.
- ``Pager.parts``: the same pages, each page's results or its failure, so that a caller can keep what the
  pages that came brought (a batched list sorted by parent knows from them which parents a failed page
  could hold).
- ``Pager.catalog`` / ``catalog_parts``: ``every`` / ``parts`` over List Resources with a filter and a
  stable sort; ``CapReached`` when the filter matches more than List Resources serves, so the caller can
  narrow it.
- ``Pager.window``: only the pages covering ``[offset, offset + first)`` of a list, and the list's total;
  all at once when the list's size is remembered.
- ``Pager.chunks``: keys split so that each chunk's List Resources URL stays under ``max_url_bytes`` and
  its known result count under the cap.

One ``Pager`` serves one session (one caller's key). The page size it plans with is learned from the
answers and kept by the client (``UpstreamClient.page_size_memo``), since it is no caller's data.

Example, the events of some categories, each category's count unknown::

    def events_of(part: list[str]) -> Filter:
        return and_(exact("type", EVENT), in_("parent_id", part))

    pager = Pager(session, PagingLimits(page_size_hint=50, max_url_bytes=8_000, catalog_cap=10_000))
    for chunk in pager.chunks(ids, events_of, bound=lambda _: None):
        events = await pager.catalog(events_of(chunk), expected=None)
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias, cast

from .client import Page, PageSizeMemo, Resource, UpstreamSession
from .errors import NotFound, UpstreamUnavailable
from .filters import STABLE_SORT, Filter, Sort

#: Page ``n`` of one list; the engine calls it for the pages it plans.
PageFetcher: TypeAlias = Callable[[int], Awaitable[Page]]

#: One page of a list as ``Pager.parts`` gives it: its results, or the failure it ended in.
Part: TypeAlias = list[Resource] | Exception

#: The page number used when measuring a URL, long enough for any page a chunk will ask for.
_SIZING_PAGE: Final = 99_999

#: Times a window is re-planned when the page size changes under it before the read gives up.
_WINDOW_ATTEMPTS: Final = 3


class CapReached(Exception):
    """A List Resources filter matched more than the catalog serves; the caller narrows it."""


@dataclass(frozen=True, slots=True)
class PagingLimits:
    """What the engine plans within.

    Attributes:
        page_size_hint: the page size assumed until an answer shows the real one.
        max_url_bytes: a List Resources URL is kept under this many bytes.
        catalog_cap: List Resources serves at most this many results for one filter.
    """

    page_size_hint: int
    max_url_bytes: int
    catalog_cap: int


class Pager:
    """How to fetch a list: its pages, planned from counts, concurrent where the counts allow."""

    __slots__ = ("limits", "memo", "session")

    def __init__(self, session: UpstreamSession, limits: PagingLimits) -> None:
        self.session = session
        self.limits = limits
        self.memo: PageSizeMemo = session.page_size_memo

    # ---- whole lists -----------------------------------------------------------------------------

    def catalog_pages(
        self, catalog_filter: Filter, sort: Sort = STABLE_SORT, *, batch_size: int | None = None
    ) -> PageFetcher:
        """Page ``n`` of List Resources for ``catalog_filter`` in the order ``sort`` (``batch_size``: the
        keys its ``in`` operand carries, reported with each call)."""
        session = self.session
        return lambda page: session.list_resources(
            filter=catalog_filter, sort=sort, page=page, batch_size=batch_size
        )

    async def catalog(
        self,
        catalog_filter: Filter,
        expected: int | None,
        *,
        sort: Sort = STABLE_SORT,
        batch_size: int | None = None,
    ) -> list[Resource]:
        """Every result of List Resources for ``catalog_filter``, in order; ``CapReached`` when it matches
        ``catalog_cap`` or more. ``batch_size``, the keys its ``in`` operand carries, is reported with
        each call."""
        return joined(await self.catalog_parts(catalog_filter, expected, sort=sort, batch_size=batch_size))

    async def catalog_parts(
        self,
        catalog_filter: Filter,
        expected: int | None,
        *,
        sort: Sort = STABLE_SORT,
        batch_size: int | None = None,
    ) -> list[Part]:
        """``catalog``, each page's results or its failure (``parts``)."""
        fetch = self.catalog_pages(catalog_filter, sort, batch_size=batch_size)
        return await self.parts(fetch, expected, cap=self.limits.catalog_cap)

    async def every(
        self, fetch: PageFetcher, expected: int | None, *, cap: int | None = None
    ) -> list[Resource]:
        """Every result of a paginated list, in order, each once; the first failed page's failure raised.

        With ``expected`` known, all the pages it needs are fetched at once; otherwise page 1 first, then
        the rest at once. More pages than planned are always fetched too. ``CapReached`` when page 1
        counts ``cap`` results or more.
        """
        return joined(await self.parts(fetch, expected, cap=cap))

    async def first_pages(
        self, fetch: PageFetcher, expected: int | None, *, cap: int | None = None
    ) -> dict[int, Page | None]:
        """The first round of ``every``: the pages ``expected`` plans, all at once, or page 1 alone when
        the size is unknown (none when it is known to be empty); the first failed page's failure raised.
        ``CapReached`` as in ``every``.

        Split from ``rest`` so that a caller can look at page 1's count before asking for the others.
        """
        pages = await self._first_round(fetch, expected, cap=cap)
        for page in pages.values():
            if isinstance(page, Exception):
                raise page
        return cast(dict[int, Page | None], pages)

    async def rest(self, fetch: PageFetcher, pages: dict[int, Page | None]) -> list[Resource]:
        """The pages of the list that ``pages`` (from ``first_pages``) lack, all at once, and any further
        ones their counts or next links show; then every result in order, each once."""
        return joined(await self._read_on(fetch, dict(pages)))

    async def parts(self, fetch: PageFetcher, expected: int | None, *, cap: int | None = None) -> list[Part]:
        """Every page of a paginated list, in order, planned as ``every`` plans them: each page's results
        (each resource once across pages), or the failure that page ended in.

        A failed page is not asked again here (the transport has retried it), and the pages around it are
        still read. When no page came, the first failure stands for the whole list; a failed page past the
        end the pages that came show is dropped. ``CapReached`` when a page counts ``cap`` results or more.
        """
        return await self._read_on(fetch, await self._first_round(fetch, expected, cap=cap))

    async def _first_round(
        self, fetch: PageFetcher, expected: int | None, *, cap: int | None
    ) -> dict[int, Page | Exception | None]:
        """The pages ``expected`` plans (page 1 alone when unknown), each one's failure kept."""
        pages: dict[int, Page | Exception | None] = {}
        if expected is None:
            pages[1] = await self._settled(fetch, 1)
        elif expected > 0:
            size = self.memo.size or self.limits.page_size_hint
            planned = range(1, math.ceil(expected / size) + 1)
            pages.update(await self._settled_pages(fetch, planned))
        came = [page for page in pages.values() if isinstance(page, Page)]
        if came:
            _check_cap(came[0], cap)
        return pages

    async def _read_on(self, fetch: PageFetcher, pages: dict[int, Page | Exception | None]) -> list[Part]:
        """The pages ``pages`` lack, as their counts and next links show them, then every page's results in
        order (each resource once) or its failure."""
        if not pages:
            return []
        if not any(isinstance(page, Page) for page in pages.values()):
            # nothing tells how long the list is: the first failure stands for it all
            failures: list[Part] = [page for page in pages.values() if isinstance(page, Exception)]
            return failures[:1]
        while True:
            last = _last_page(pages)
            if last is None:  # no total given: follow the opaque next link of the furthest page
                furthest = pages[max(pages)]
                next_url = furthest.next_url if isinstance(furthest, Page) else None
                if next_url is None:  # cannot happen: _last_page says the furthest page has a next link
                    break
                try:
                    pages[max(pages) + 1] = await self.session.follow(next_url)
                except Exception as exc:  # this page's failure, kept as its outcome
                    pages[max(pages) + 1] = exc
                continue
            missing = [number for number in range(1, last + 1) if number not in pages]
            if not missing:
                break
            pages.update(await self._settled_pages(fetch, missing))
        end = _last_page(pages) or max(pages)
        seen: set[object] = set()
        parts: list[Part] = []
        for number in sorted(pages):
            page = pages[number]
            if page is None or number > end:
                continue
            if isinstance(page, Exception):
                parts.append(page)
                continue
            results: list[Resource] = []
            for resource in page.results:
                resource_id = resource.get("id")
                if resource_id not in seen:
                    seen.add(resource_id)
                    results.append(resource)
            parts.append(results)
        return parts

    # ---- windows ---------------------------------------------------------------------------------

    async def window(
        self, fetch: PageFetcher, offset: int, first: int, *, expected: int | None = None
    ) -> tuple[list[Resource], int]:
        """The resources ``[offset, offset + first)`` of a list, and the list's total.

        Only the pages covering the window are fetched: the first of them alone (its count tells how far
        the list goes, so no call is spent on a page past the end), then the others at once. With the
        list's size ``expected`` (remembered from an earlier read) and the page size known, every page
        the window needs is asked for at once; the count the pages show still decides what is returned.
        """
        end = offset + first
        pages: dict[int, Page | None] = {}
        for _ in range(_WINDOW_ATTEMPTS):  # a page size that changes under us is re-planned
            if self.memo.size is None:
                pages[1] = await self.page(fetch, 1)
                if self.memo.size is None:  # page 1 has no next page: it holds the whole list
                    return _slice(pages, range(1, 2), 0, offset, first)
            size = self.memo.size
            head = offset // size + 1
            if head not in pages:
                planned = [head]
                if expected is not None:
                    planned += range(head + 1, min(math.ceil(end / size), math.ceil(expected / size)) + 1)
                pages.update(await self.pages(fetch, [number for number in planned if number not in pages]))
            head_page = pages[head]
            if head_page is None:  # the window starts past the end: page 1 still tells the total
                total = pages.get(1) or await self.page(fetch, 1)
                return [], total.count if total is not None else 0
            if not self._consistent([head_page], size):
                pages = {}
                continue
            last = max(head, min(math.ceil(end / size), math.ceil(head_page.count / size)))
            wanted = range(head, last + 1)
            pages.update(await self.pages(fetch, [number for number in wanted if number not in pages]))
            if self._consistent([pages[number] for number in wanted], size):
                return _slice(pages, wanted, size, offset, first)
            pages = {}
        raise UpstreamUnavailable("The upstream's page size kept changing while a list was read.")

    def _consistent(self, pages: list[Page | None], size: int) -> bool:
        """True when every full page is ``size`` long: the page numbers were mapped right."""
        for page in pages:
            if page is not None:
                self.memo.learn(page)
                if page.next_url and len(page.results) != size:
                    return False
        return True

    # ---- single pages ----------------------------------------------------------------------------

    async def pages(self, fetch: PageFetcher, numbers: Sequence[int]) -> dict[int, Page | None]:
        """Several pages at once (one round)."""
        found = await asyncio.gather(*(self.page(fetch, number) for number in numbers))
        return dict(zip(numbers, found, strict=True))

    async def _settled_pages(
        self, fetch: PageFetcher, numbers: Sequence[int]
    ) -> dict[int, Page | Exception | None]:
        """Several pages at once (one round), each one's failure kept as its outcome."""
        found = await asyncio.gather(*(self._settled(fetch, number) for number in numbers))
        return dict(zip(numbers, found, strict=True))

    async def _settled(self, fetch: PageFetcher, number: int) -> Page | Exception | None:
        try:
            return await self.page(fetch, number)
        except Exception as exc:  # this page's failure; the caller decides what it costs
            return exc

    async def page(self, fetch: PageFetcher, number: int) -> Page | None:
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

    # ---- chunking --------------------------------------------------------------------------------

    def chunks(
        self,
        keys: Sequence[str],
        make_filter: Callable[[list[str]], Filter],
        *,
        bound: Callable[[str], int | None],
        sort: Sort = STABLE_SORT,
    ) -> list[list[str]]:
        """``keys`` split so that each chunk's List Resources URL (``make_filter(chunk)`` sorted by
        ``sort``) stays under ``max_url_bytes``, and the sum of its keys' known ``bound`` (results a key
        can match at most) under ``catalog_cap``."""
        if not keys:
            return []
        session = self.session
        max_bytes, cap = self.limits.max_url_bytes, self.limits.catalog_cap

        def length(chunk: list[str]) -> int:
            return session.resources_url_length(filter=make_filter(chunk), sort=sort, page=_SIZING_PAGE)

        base = length(list(keys[:1]))
        step = length(list(keys[:2])) - base if len(keys) > 1 else 0
        capacity = len(keys) if step <= 0 else max(1, 1 + (max_bytes - base) // step)
        chunks: list[list[str]] = []
        current: list[str] = []
        current_count = 0
        for key in keys:
            count = bound(key) or 0
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


def joined(parts: Sequence[Part]) -> list[Resource]:
    """The results of ``parts`` in order; the first failed page's failure is raised."""
    results: list[Resource] = []
    for part in parts:
        if isinstance(part, Exception):
            raise part
        results.extend(part)
    return results


def _check_cap(page: Page | None, cap: int | None) -> None:
    if cap is not None and page is not None and page.count >= cap:
        raise CapReached


def _last_page(pages: dict[int, Page | Exception | None]) -> int | None:
    """The number of the list's last page, from what the fetched pages say; ``None`` if unknowable (a
    next link to follow). A failed page tells nothing, but a page linking to it shows it exists."""
    last = 0
    for number, page in pages.items():
        if not isinstance(page, Page):
            continue
        if page.total_pages is not None:
            last = max(last, page.total_pages)
        elif page.next_url:
            if number + 1 not in pages:
                return None
            last = max(last, number + 1)
        else:
            last = max(last, number)
    return max(last, 1)


def _slice(
    pages: dict[int, Page | None], wanted: range, size: int, offset: int, first: int
) -> tuple[list[Resource], int]:
    """The window's resources out of the fetched pages ``wanted`` (pages of ``size``), and the total."""
    rows: list[Resource] = []
    count = 0
    for number in wanted:
        page = pages.get(number)
        if page is None:
            break
        rows.extend(page.results)
        count = max(count, page.count)
    start = offset - (wanted.start - 1) * size
    return rows[start : start + first], count
