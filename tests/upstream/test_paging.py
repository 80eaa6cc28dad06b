"""The paging engine against the real emulator over loopback: which pages it asks for, in how many rounds,
and that it reads every result once whatever the counts, the hint or the envelope say.

The emulator adds latency to every call, so its ``rounds`` counter (the longest chain of calls each
started after the previous one ended) counts the engine's sequential round trips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.upstream import (
    STABLE_SORT,
    CapReached,
    Page,
    Pager,
    PagingLimits,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    UpstreamUnavailable,
    and_,
    exact,
    in_,
)

from .conftest import OddUpstream

PAGE_SIZE = 10
EVENTS = 60  # 3 categories x 20 events
EVENT_FILTER = and_(exact("type", "event"))


@dataclass
class Paged:
    """A seeded emulator with pages of ten, a client on it, and its test aids."""

    emulator: RunningEmulator
    client: UpstreamClient
    admin: EmulatorAdmin

    def pager(self, *, hint: int = PAGE_SIZE, cap: int = 10_000, max_url_bytes: int = 8_000) -> Pager:
        limits = PagingLimits(page_size_hint=hint, max_url_bytes=max_url_bytes, catalog_cap=cap)
        return Pager(self.client.session(DEMO_API_KEY), limits)

    async def events(self) -> list[str]:
        """Every event id in the stable order, read straight from the emulator."""
        params = {"filter": orjson.dumps(EVENT_FILTER).decode(), "sort": orjson.dumps(STABLE_SORT).decode()}
        headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        ids: list[str] = []
        url: str | None = f"{self.emulator.api_url}/resource/catalog/"
        async with httpx.AsyncClient(headers=headers) as http:
            while url:
                body = (await http.get(url, params=params if not ids else None)).json()
                ids.extend(item["id"] for item in body["results"])
                url = body["links"]["next"]
        return ids

    async def cost(self) -> tuple[int, int]:
        """Calls and sequential rounds since the last reset."""
        stats = await self.admin.stats()
        return stats["total"], stats["rounds"]


PagedFor = Callable[..., Awaitable[Paged]]


@pytest.fixture
async def paged_for(emulator_factory: Any) -> AsyncIterator[PagedFor]:
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Paged:
            settings = {"seed": "scale", "scale": (3, 20, 2), "page_size": PAGE_SIZE, "latency_ms": 30}
            emulator = await emulator_factory(**{**settings, **overrides})
            client = UpstreamClient(UpstreamSettings(emulator.api_url))
            stack.push_async_callback(client.aclose)
            admin = await stack.enter_async_context(EmulatorAdmin(emulator.url))
            return Paged(emulator, client, admin)

        yield start


@pytest.fixture
async def paged(paged_for: PagedFor) -> Paged:
    return await paged_for()


def _ids(resources: list[dict[str, Any]]) -> list[str]:
    return [resource["id"] for resource in resources]


async def test_a_known_count_fetches_every_page_in_one_round(paged: Paged) -> None:
    every = await paged.events()
    await paged.admin.reset()

    found = await paged.pager().catalog(EVENT_FILTER, EVENTS)

    assert _ids(found) == every
    assert await paged.cost() == (EVENTS // PAGE_SIZE, 1)


async def test_an_unknown_count_reads_page_one_then_the_rest_at_once(paged: Paged) -> None:
    every = await paged.events()
    await paged.admin.reset()

    found = await paged.pager().catalog(EVENT_FILTER, None)

    assert _ids(found) == every
    assert await paged.cost() == (EVENTS // PAGE_SIZE, 2)


async def test_a_count_too_small_is_followed_to_the_end(paged: Paged) -> None:
    every = await paged.events()
    await paged.admin.reset()

    found = await paged.pager().catalog(EVENT_FILTER, 15)  # plans two pages; page 1 shows six

    assert _ids(found) == every
    assert await paged.cost() == (EVENTS // PAGE_SIZE, 2)


async def test_a_wrong_hint_still_reads_each_result_once_and_the_client_learns_the_size(paged: Paged) -> None:
    every = await paged.events()
    assert paged.client.page_size_memo.size is None

    found = await paged.pager(hint=3).catalog(EVENT_FILTER, EVENTS)  # plans 20 pages of three

    assert _ids(found) == every
    assert paged.client.page_size_memo.size == PAGE_SIZE
    await paged.admin.reset()
    # another session of the same client plans with the learned size: six pages, one round
    assert _ids(await paged.pager(hint=3).catalog(EVENT_FILTER, EVENTS)) == every
    assert await paged.cost() == (EVENTS // PAGE_SIZE, 1)


async def test_sessions_of_one_client_share_its_memo_and_other_clients_do_not(paged: Paged) -> None:
    other = UpstreamClient(UpstreamSettings(paged.emulator.api_url))
    try:
        one, two = paged.client.session(DEMO_API_KEY), paged.client.session("another-key")
        assert one.page_size_memo is two.page_size_memo is paged.client.page_size_memo
        assert other.session(DEMO_API_KEY).page_size_memo is not paged.client.page_size_memo
    finally:
        await other.aclose()


async def test_a_filter_at_the_cap_is_reported_to_the_caller(paged_for: PagedFor) -> None:
    paged = await paged_for(catalog_cap=30)

    with pytest.raises(CapReached):
        await paged.pager(cap=30).catalog(EVENT_FILTER, None)
    with pytest.raises(CapReached):
        await paged.pager(cap=30).catalog(EVENT_FILTER, EVENTS)


async def test_a_window_fetches_only_the_pages_that_cover_it(paged: Paged) -> None:
    every = await paged.events()
    pager = paged.pager()
    await paged.admin.reset()

    found, total = await pager.window(pager.catalog_pages(EVENT_FILTER), 25, 10)

    assert (_ids(found), total) == (every[25:35], EVENTS)
    assert await paged.cost() == (3, 3)  # page 1 shows the page size, then page 3, then page 4
    await paged.admin.reset()
    found, total = await pager.window(pager.catalog_pages(EVENT_FILTER), 25, 10)
    assert (_ids(found), total) == (every[25:35], EVENTS)
    assert (await paged.cost())[0] == 2  # the size is known now: pages 3 and 4 alone


async def test_a_window_with_a_remembered_size_asks_for_every_page_at_once(paged: Paged) -> None:
    every = await paged.events()
    pager = paged.pager()
    await pager.window(pager.catalog_pages(EVENT_FILTER), 0, 1)  # learn the page size
    await paged.admin.reset()

    found, total = await pager.window(pager.catalog_pages(EVENT_FILTER), 5, 30, expected=EVENTS)

    assert (_ids(found), total) == (every[5:35], EVENTS)
    assert await paged.cost() == (4, 1)  # pages 1 to 4 together
    for remembered in (25, 500):  # out of date, smaller or larger: the pages' count decides
        await paged.admin.reset()
        found, total = await pager.window(pager.catalog_pages(EVENT_FILTER), 5, 30, expected=remembered)
        assert (_ids(found), total) == (every[5:35], EVENTS)
        # too small: pages 1 to 3, then page 4; too large: pages 1 to 4 still cover the window
        assert await paged.cost() == ((4, 2) if remembered < EVENTS else (4, 1))


async def test_the_first_pages_and_the_rest_read_a_list_in_two_steps(paged: Paged) -> None:
    every = await paged.events()
    pager = paged.pager()
    fetch = pager.catalog_pages(EVENT_FILTER)
    await paged.admin.reset()

    pages = await pager.first_pages(fetch, None)
    assert list(pages) == [1]
    first = pages[1]
    assert first is not None
    assert first.count == EVENTS  # the caller decides on the count before reading on
    assert _ids(await pager.rest(fetch, pages)) == every
    assert await paged.cost() == (EVENTS // PAGE_SIZE, 2)
    assert await pager.first_pages(fetch, 0) == {}
    assert await pager.rest(fetch, {}) == []


async def test_a_window_past_the_end_is_empty_and_still_counts_the_list(paged: Paged) -> None:
    pager = paged.pager()
    found, total = await pager.window(pager.catalog_pages(EVENT_FILTER), 100, 10)
    assert (found, total) == ([], EVENTS)


async def test_a_list_shorter_than_a_page_is_one_call(paged: Paged) -> None:
    pager = paged.pager()
    await paged.admin.reset()
    one_category = and_(exact("type", "category"))
    found, total = await pager.window(pager.catalog_pages(one_category), 0, 50)
    assert (len(found), total) == (3, 3)
    assert await paged.cost() == (1, 1)


async def test_chunks_keep_each_url_under_the_limit_and_each_filter_under_the_cap(paged: Paged) -> None:
    session = paged.client.session(DEMO_API_KEY)
    keys = [f"00000000-0000-4000-8000-0000000000{n:02}" for n in range(7)]

    def make(chunk: list[str]) -> dict[str, Any]:
        return and_(exact("type", "event"), in_("parent_id", chunk))

    def length(chunk: list[str]) -> int:
        return session.resources_url_length(filter=make(chunk), sort=STABLE_SORT, page=99_999)

    by_url = paged.pager(max_url_bytes=length(keys[:3])).chunks(keys, make, bound=lambda _: None)
    assert by_url == [keys[0:3], keys[3:6], keys[6:7]]
    by_cap = paged.pager(cap=30).chunks(keys, make, bound=lambda _: 10)  # three would reach 30
    assert by_cap == [keys[0:2], keys[2:4], keys[4:6], keys[6:7]]
    assert paged.pager().chunks([], make, bound=lambda _: 1) == []


async def test_a_list_without_totals_is_followed_by_its_next_links(
    odd_upstream: OddUpstream, emulator_factory: Any
) -> None:
    items = [{"id": f"00000000-0000-4000-8000-0000000000{n:02}", "title": str(n)} for n in range(8)]
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * 3 : page * 3]
        more = page * 3 < len(items)
        next_link = str(request.url.update_query(page=page + 1)) if more else None
        return web.json_response({"links": {"next": next_link}, "results": chunk})  # no count, no total

    base = await odd_upstream(handle)
    client = UpstreamClient(UpstreamSettings(base))
    try:
        session: UpstreamSession = client.session("key")
        pager = Pager(session, PagingLimits(page_size_hint=3, max_url_bytes=8_000, catalog_cap=10_000))

        def fetch(page: int) -> Awaitable[Page]:
            return session.list_events(page=page)

        found = await pager.every(fetch, None)
        assert _ids(found) == _ids(items)
        assert len(seen) == 3  # page 1, then each next link in turn
        seen.clear()
        found = await pager.every(fetch, 5)  # two pages planned; the second still has a next link
        assert _ids(found) == _ids(items)
        assert len(seen) == 3
    finally:
        await client.aclose()


@pytest.mark.parametrize("expected", [EVENTS, None, EVENTS + 3 * PAGE_SIZE], ids=["known", "unknown", "high"])
async def test_a_failed_page_keeps_its_place_and_the_other_pages_are_read(
    paged: Paged, expected: int | None
) -> None:
    every = await paged.events()
    rules = [{"route": "GET /resource/catalog", "params": {"page": str(page)}} for page in (3, 8)]
    # page 3 of 6, and page 8, past the end: asked for only when a count too high plans it, then dropped
    await paged.admin.configure(fault_rules=rules)

    parts = await paged.pager().catalog_parts(EVENT_FILTER, expected)

    assert [part if isinstance(part, Exception) else _ids(part) for part in parts[:2] + parts[3:]] == [
        every[n * PAGE_SIZE : (n + 1) * PAGE_SIZE] for n in (0, 1, 3, 4, 5)
    ]
    assert isinstance(parts[2], UpstreamUnavailable)
    with pytest.raises(UpstreamUnavailable):
        await paged.pager().catalog(EVENT_FILTER, expected)  # the whole list: the failure is raised


async def test_when_no_page_comes_one_failure_stands_for_the_list(paged: Paged) -> None:
    await paged.admin.configure(fault_rules=[{"route": "GET /resource/catalog", "params": {"page": "1"}}])

    parts = await paged.pager().catalog_parts(EVENT_FILTER, None)

    assert len(parts) == 1
    assert isinstance(parts[0], UpstreamUnavailable)
