"""The cache in one process: freshness, stale-while-revalidate, stale-if-error, single flight, invalidation
along the hierarchy, dropping a key, and the memory tier's byte bound."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest

from events_gateway.cache import (
    EPOCH,
    Cache,
    CacheConfig,
    CacheCounts,
    CacheResult,
    CacheStatus,
    Entry,
    Fetched,
    KeyHash,
    MemoryTier,
    Scope,
    canonical_request,
)
from events_gateway.cache.generations import Generations

from .conftest import TREE, Clock, Upstream

EVENTS = canonical_request("GET", "/resource/catalog", {"filter": "event", "parent_id": "c1"})
DEPS = TREE.children_deps("category", "c1", "event")


async def read(
    cache: Cache,
    key: KeyHash,
    upstream: Upstream,
    request: str = EVENTS,
    deps: Sequence[Scope] = DEPS,
    *,
    read_through: bool = False,
) -> CacheResult:
    """``request`` through ``cache`` for ``key``, asked of ``upstream`` when the cache does not answer."""
    return await cache.get_or_fetch(key, request, deps, upstream.fetch(request), read_through=read_through)


async def test_a_second_read_within_the_ttl_is_a_hit_without_asking_the_upstream(
    memory_cache: Cache, upstream: Upstream
) -> None:
    key = memory_cache.key_hash("key-a")
    first = await read(memory_cache, key, upstream)
    second = await read(memory_cache, key, upstream)

    assert first.status is CacheStatus.MISS
    assert first.tier is None
    assert second.status is CacheStatus.HIT
    assert second.tier == "memory"
    assert second.value == first.value == f"answer:{EVENTS}#1".encode()
    assert upstream.calls[EVENTS] == 1


async def test_two_keys_never_see_each_others_entries(memory_cache: Cache) -> None:
    a, b = Upstream("workspace-a"), Upstream("workspace-b")
    key_a, key_b = memory_cache.key_hash("key-a"), memory_cache.key_hash("key-b")
    await read(memory_cache, key_a, a)

    answer_b = await read(memory_cache, key_b, b)
    answer_a = await read(memory_cache, key_a, a)

    assert answer_b.status is CacheStatus.MISS
    assert answer_b.value.startswith(b"workspace-b:")
    assert answer_a.value.startswith(b"workspace-a:")
    assert answer_a.status is CacheStatus.HIT


async def test_concurrent_misses_ask_the_upstream_once(memory_cache: Cache, upstream: Upstream) -> None:
    key = memory_cache.key_hash("key-a")
    upstream.gate = asyncio.Event()
    callers = [asyncio.create_task(read(memory_cache, key, upstream)) for _ in range(20)]
    await asyncio.sleep(0)
    upstream.gate.set()
    results = await asyncio.gather(*callers)

    assert upstream.calls[EVENTS] == 1
    assert {result.value for result in results} == {f"answer:{EVENTS}#1".encode()}


async def test_a_cancelled_caller_does_not_cancel_the_fetch_others_wait_for(
    memory_cache: Cache, upstream: Upstream
) -> None:
    key = memory_cache.key_hash("key-a")
    upstream.gate = asyncio.Event()
    leaver = asyncio.create_task(read(memory_cache, key, upstream))
    stayer = asyncio.create_task(read(memory_cache, key, upstream))
    await asyncio.sleep(0)
    leaver.cancel()
    upstream.gate.set()

    with pytest.raises(asyncio.CancelledError):
        await leaver
    assert (await stayer).value == f"answer:{EVENTS}#1".encode()
    assert (await read(memory_cache, key, upstream)).status is CacheStatus.HIT


async def test_a_failed_fetch_reaches_every_waiter_and_stores_nothing(
    memory_cache: Cache, upstream: Upstream
) -> None:
    key = memory_cache.key_hash("key-a")
    upstream.failure = RuntimeError("upstream down")
    for _ in range(2):
        with pytest.raises(RuntimeError, match="upstream down"):
            await read(memory_cache, key, upstream)
    upstream.failure = None

    result = await read(memory_cache, key, upstream)

    assert result.status is CacheStatus.MISS
    assert upstream.calls[EVENTS] == 3


async def test_past_the_ttl_the_stale_answer_is_served_while_one_refresh_runs(
    memory_cache: Cache, upstream: Upstream, clock: Clock
) -> None:
    key = memory_cache.key_hash("key-a")
    await read(memory_cache, key, upstream)
    clock.advance(6)

    stale = [await read(memory_cache, key, upstream) for _ in range(3)]
    await memory_cache.drain()
    fresh = await read(memory_cache, key, upstream)

    assert [result.status for result in stale] == [CacheStatus.STALE] * 3
    assert {result.value for result in stale} == {f"answer:{EVENTS}#1".encode()}
    assert stale[0].age == pytest.approx(6)
    assert upstream.calls[EVENTS] == 2  # one refresh for three stale reads
    assert fresh.status is CacheStatus.HIT
    assert fresh.value == f"answer:{EVENTS}#2".encode()


async def test_an_answer_made_of_cached_parts_is_fresh_only_as_long_as_its_oldest_part(
    memory_cache: Cache, clock: Clock
) -> None:
    key = memory_cache.key_hash("key-a")

    async def made_of_parts(age: float) -> Fetched:
        return Fetched(b"whole", age)

    made = await memory_cache.get_or_fetch(key, "OP whole", DEPS, lambda: made_of_parts(4))
    soon = await memory_cache.get_or_fetch(key, "OP whole", DEPS, lambda: made_of_parts(0))
    clock.advance(2)  # 6 s old: past the 5 s TTL although stored 2 s ago
    later = await memory_cache.get_or_fetch(key, "OP whole", DEPS, lambda: made_of_parts(0))
    too_old = await memory_cache.get_or_fetch(key, "OP ancient", DEPS, lambda: made_of_parts(70))
    again = await memory_cache.get_or_fetch(key, "OP ancient", DEPS, lambda: made_of_parts(0))

    assert (made.status, made.age) == (CacheStatus.MISS, 4)
    assert soon.status is CacheStatus.HIT
    assert soon.age == pytest.approx(4)
    assert later.status is CacheStatus.STALE
    assert later.age == pytest.approx(6)
    assert too_old.status is CacheStatus.MISS  # answered, but past the stale window: not kept
    assert again.status is CacheStatus.MISS
    await memory_cache.drain()


async def test_while_refreshes_fail_the_stale_answer_is_served_until_the_stale_window_ends(
    memory_cache: Cache, upstream: Upstream, clock: Clock
) -> None:
    key = memory_cache.key_hash("key-a")
    await read(memory_cache, key, upstream)
    upstream.failure = RuntimeError("upstream down")
    clock.advance(6)

    first = await read(memory_cache, key, upstream)
    await memory_cache.drain()
    second = await read(memory_cache, key, upstream)
    await memory_cache.drain()
    clock.advance(60)

    assert first.status is CacheStatus.STALE
    assert second.status is CacheStatus.STALE_IF_ERROR
    assert second.value == first.value
    with pytest.raises(RuntimeError):
        await read(memory_cache, key, upstream)


async def test_a_ttl_of_zero_caches_nothing(upstream: Upstream) -> None:
    cache = Cache(CacheConfig(ttl=0))
    key = cache.key_hash("key-a")
    results = [await read(cache, key, upstream) for _ in range(2)]
    await cache.invalidate(key, DEPS)

    assert [result.status for result in results] == [CacheStatus.BYPASS] * 2
    assert upstream.calls[EVENTS] == 2
    assert len(cache.memory) == 0


async def test_read_through_asks_the_upstream_and_keeps_the_new_answer(
    memory_cache: Cache, upstream: Upstream
) -> None:
    key = memory_cache.key_hash("key-a")
    await read(memory_cache, key, upstream)
    through = await read(memory_cache, key, upstream, read_through=True)
    after = await read(memory_cache, key, upstream)

    assert through.status is CacheStatus.MISS
    assert through.value.endswith(b"#2")
    assert after.status is CacheStatus.HIT
    assert after.value == through.value


async def test_a_write_invalidates_what_depends_on_it_and_nothing_else(memory_cache: Cache) -> None:
    """Creating an event in c1: c1's event list, c1 itself (its count) and the category list change;
    c2's event list and an unrelated property do not."""
    key = memory_cache.key_hash("key-a")
    reads = {
        "c1 events": TREE.children_deps("category", "c1", "event"),
        "c2 events": TREE.children_deps("category", "c2", "event"),
        "c1": TREE.object_deps("category", "c1"),
        "categories": TREE.list_deps("category"),
        "all events": TREE.list_deps("event"),
        "p9": TREE.object_deps("property", "p9"),
    }
    upstream = Upstream()
    for request, deps in reads.items():
        await read(memory_cache, key, upstream, request, deps)

    await memory_cache.invalidate(key, TREE.created("event", "e7", parent_id="c1"))
    statuses = {
        request: (await read(memory_cache, key, upstream, request, deps)).status
        for request, deps in reads.items()
    }

    assert statuses == {
        "c1 events": CacheStatus.MISS,
        "c2 events": CacheStatus.HIT,
        "c1": CacheStatus.MISS,
        "categories": CacheStatus.MISS,
        "all events": CacheStatus.MISS,
        "p9": CacheStatus.HIT,
    }


async def test_deleting_a_category_cascades_to_every_event_and_property(memory_cache: Cache) -> None:
    key = memory_cache.key_hash("key-a")
    reads = {
        "e1": TREE.object_deps("event", "e1"),
        "e1 properties": TREE.children_deps("event", "e1", "property"),
        "c2": TREE.object_deps("category", "c2"),
    }
    upstream = Upstream()
    for request, deps in reads.items():
        await read(memory_cache, key, upstream, request, deps)

    await memory_cache.invalidate(key, TREE.deleted("category", "c1"))

    for request in ("e1", "e1 properties"):
        assert (await read(memory_cache, key, upstream, request, reads[request])).status is (CacheStatus.MISS)
    assert (await read(memory_cache, key, upstream, "c2", reads["c2"])).status is CacheStatus.HIT


async def test_a_write_by_one_key_leaves_another_keys_entries_alone(
    memory_cache: Cache, upstream: Upstream
) -> None:
    key_a, key_b = memory_cache.key_hash("key-a"), memory_cache.key_hash("key-b")
    for key in (key_a, key_b):
        await read(memory_cache, key, upstream)
    await memory_cache.invalidate(key_a, TREE.created("event", "e7", parent_id="c1"))

    assert (await read(memory_cache, key_b, upstream)).status is CacheStatus.HIT


async def test_dropping_a_key_drops_all_its_entries_and_frees_their_memory(
    memory_cache: Cache, upstream: Upstream
) -> None:
    key_a, key_b = memory_cache.key_hash("key-a"), memory_cache.key_hash("key-b")
    for request in ("one", "two", "three"):
        for key in (key_a, key_b):
            await read(memory_cache, key, upstream, request)
    assert len(memory_cache.memory) == 6

    await memory_cache.drop_key(key_a)

    assert len(memory_cache.memory) == 3
    for request in ("one", "two", "three"):
        assert (await read(memory_cache, key_a, upstream, request)).status is (CacheStatus.MISS)
        assert (await read(memory_cache, key_b, upstream, request)).status is (CacheStatus.HIT)


async def test_the_observer_counts_each_tier_s_events(
    memory_cache: Cache, upstream: Upstream, clock: Clock
) -> None:
    counts = memory_cache.observer
    assert isinstance(counts, CacheCounts)
    key = memory_cache.key_hash("key-a")
    await read(memory_cache, key, upstream)
    await read(memory_cache, key, upstream)
    clock.advance(6)
    await read(memory_cache, key, upstream)
    await memory_cache.drain()
    await memory_cache.invalidate(key, DEPS)
    await read(memory_cache, key, upstream, read_through=True)

    assert counts.events == {
        ("memory", "miss"): 1,
        ("memory", "hit"): 1,
        ("memory", "stale"): 1,
        ("memory", "refresh"): 1,
        ("memory", "invalidation"): 1,
    }


def entry(size: int, now: float = 0.0) -> Entry:
    return Entry(b"x" * size, now, now + 5, now + 65, ("c",), (1,))


def test_the_memory_tier_stays_within_its_byte_budget_and_drops_the_least_recently_used() -> None:
    tier = MemoryTier(200_000)
    rng = random.Random(7)
    for index in range(2_000):
        tier.put("k", f"request {index}", entry(rng.randrange(10, 20_000)))
        assert tier.size_bytes <= tier.max_bytes
        if index % 10 == 0:
            tier.get("k", "request 0", now=0.0)  # kept recently used, so never the one dropped

    assert tier.evictions > 0
    assert tier.get("k", "request 0", now=0.0) is not None
    assert tier.get("k", "request 1", now=0.0) is None
    assert tier.size_bytes == sum(
        e.size(f"request {i}") for i in range(2_000) if (e := tier.get("k", f"request {i}", now=0.0))
    )


def test_an_entry_too_large_for_its_share_of_the_budget_is_not_kept() -> None:
    tier = MemoryTier(80_000)
    assert not tier.put("k", "large", entry(20_000))
    assert tier.put("k", "small", entry(1_000))
    assert len(tier) == 1


def test_an_entry_past_its_stale_deadline_is_gone() -> None:
    tier = MemoryTier(80_000)
    tier.put("k", "r", entry(10, now=100.0))
    assert tier.get("k", "r", now=164.0) is not None
    assert tier.get("k", "r", now=165.0) is None
    assert tier.size_bytes == 0


async def test_a_forgotten_counter_never_reads_lower_than_before() -> None:
    """With few counters remembered, forgetting one must not bring back an older value."""
    gens = Generations("ns", max_entries=4)
    target = gens.counter("k", "o:event:1")
    before = (await gens.current([target]))[0]  # type: ignore[index]
    bumped = (await gens.bump([target]))[target]
    for index in range(20):
        await gens.bump([gens.counter("k", f"o:event:{index + 100}")])

    after = await gens.current([target])

    assert bumped > before
    assert after is not None
    assert after[0] >= bumped


async def test_the_epoch_scope_is_part_of_every_entry(memory_cache: Cache, upstream: Upstream) -> None:
    key = memory_cache.key_hash("key-a")
    await read(memory_cache, key, upstream, EVENTS, ())
    await memory_cache.invalidate(key, (EPOCH,))
    assert (await read(memory_cache, key, upstream, EVENTS, ())).status is CacheStatus.MISS
