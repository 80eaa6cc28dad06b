"""The cache over a real Redis: sharing between processes, invalidation broadcast, tenancy, generations
that survive a flush and a restart, Redis dying or hanging mid-traffic, and what Redis ever holds."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from events_gateway.cache import (
    Cache,
    CacheConfig,
    CacheCounts,
    CacheStatus,
    RedisLink,
    canonical_request,
)
from events_gateway.cache.generations import Generations

from ..conftest import WAIT, eventually
from ..redis_process import RedisServer
from .conftest import TREE, Clock, Upstream


def get(key: str) -> Callable[[Any], Awaitable[Any]]:
    """A ``RedisLink.run`` command that reads ``key``."""
    return lambda client: client.get(key)


def put(key: str, value: str) -> Callable[[Any], Awaitable[Any]]:
    """A ``RedisLink.run`` command that sets ``key``."""
    return lambda client: client.set(key, value)


OpenCache = Callable[..., Awaitable[Cache]]
EVENTS = canonical_request("GET", "/resource/catalog", {"filter": "event", "parent_id": "c1"})
DEPS = TREE.children_deps("category", "c1", "event")
PEER = Path(__file__).with_name("peer.py")


@pytest.fixture
async def open_cache(redis_server: RedisServer) -> AsyncIterator[OpenCache]:
    """Open caches on the test's Redis (each one a process of its own, as far as the cache can tell)."""
    caches: list[Cache] = []

    async def open_(clock: Callable[[], float] | None = None, **changes: Any) -> Cache:
        config = CacheConfig(redis_url=redis_server.url, **changes)
        if clock is None:
            cache = await Cache.open(config, observer=CacheCounts())
        else:
            cache = await Cache.open(config, observer=CacheCounts(), clock=clock)
        caches.append(cache)
        assert cache.usable
        return cache

    yield open_
    for cache in caches:
        await cache.aclose()


async def status(cache: Cache, api_key: str, upstream: Upstream, request: str = EVENTS) -> CacheStatus:
    result = await cache.get_or_fetch(cache.key_hash(api_key), request, DEPS, upstream.fetch(request))
    return result.status


async def until_missed(cache: Cache, upstream: Upstream, what: str) -> None:
    """Wait until ``cache`` answers key-a's request as a miss: it has heard of a write."""

    async def missed() -> bool:
        return await status(cache, "key-a", upstream) is CacheStatus.MISS

    await eventually(missed, what)


async def test_an_answer_fetched_through_one_process_is_a_hit_through_another(
    open_cache: OpenCache, upstream: Upstream
) -> None:
    a, b = await open_cache(), await open_cache()
    first = await a.get_or_fetch(a.key_hash("key-a"), EVENTS, DEPS, upstream.fetch(EVENTS))
    shared = await b.get_or_fetch(b.key_hash("key-a"), EVENTS, DEPS, upstream.fetch(EVENTS))
    local = await b.get_or_fetch(b.key_hash("key-a"), EVENTS, DEPS, upstream.fetch(EVENTS))

    assert first.status is CacheStatus.MISS
    assert (shared.status, shared.tier) == (CacheStatus.HIT, "redis")
    assert (local.status, local.tier) == (CacheStatus.HIT, "memory")
    assert shared.value == local.value == first.value
    assert upstream.calls[EVENTS] == 1


async def test_two_keys_never_see_each_others_entries_even_under_concurrency(open_cache: OpenCache) -> None:
    a, b = await open_cache(), await open_cache()
    rng = random.Random(11)
    requests = [canonical_request("GET", "/event/events/", {"page": str(page)}) for page in range(8)]

    async def read(api_key: str) -> None:
        cache = rng.choice((a, b))
        request = rng.choice(requests)
        own = Upstream(f"workspace of {api_key}")
        result = await cache.get_or_fetch(cache.key_hash(api_key), request, DEPS, own.fetch(request))
        assert result.value.startswith(f"workspace of {api_key}:{request}#".encode()), (api_key, result)

    await asyncio.gather(*(read(rng.choice(("key-a", "key-b"))) for _ in range(400)))
    assert a.memory.size_bytes > 0
    assert b.memory.size_bytes > 0


async def test_an_invalidation_reaches_every_other_process(open_cache: OpenCache, upstream: Upstream) -> None:
    a, b = await open_cache(), await open_cache()
    for cache in (a, b, b):
        await status(cache, "key-a", upstream)
    assert await status(b, "key-a", upstream) is CacheStatus.HIT  # from b's own memory

    await a.invalidate(a.key_hash("key-a"), TREE.created("event", "e9", parent_id="c1"))

    await until_missed(b, upstream, "b's memory entry invalidated by a's write")
    assert isinstance(b.observer, CacheCounts)
    assert b.observer.events["redis", "invalidation"] >= 1


async def test_dropping_a_key_drops_its_entries_in_every_process(
    open_cache: OpenCache, upstream: Upstream
) -> None:
    a, b = await open_cache(), await open_cache()
    for api_key in ("key-a", "key-b"):
        await status(a, api_key, upstream)
        await status(b, api_key, upstream)
    assert len(b.memory) == 2

    await a.drop_key(a.key_hash("key-a"))

    async def b_dropped_them() -> bool:
        return len(b.memory) == 1

    await eventually(b_dropped_them, "b's entries of key-a dropped")
    assert await status(b, "key-a", upstream) is CacheStatus.MISS
    assert await status(b, "key-b", upstream) is CacheStatus.HIT


async def test_one_refresh_runs_across_processes_while_both_serve_stale(open_cache: OpenCache) -> None:
    clock = Clock()
    a, b = await open_cache(clock=clock), await open_cache(clock=clock)
    upstream = Upstream()
    for cache in (a, b):
        await status(cache, "key-a", upstream)  # a fetches, b takes it from Redis
    clock.advance(6)
    upstream.gate = asyncio.Event()

    stale = [await status(cache, "key-a", upstream) for cache in (a, b, a, b)]
    upstream.gate.set()
    await a.drain()
    await b.drain()

    assert stale == [CacheStatus.STALE] * 4
    assert upstream.calls[EVENTS] == 2  # the first fetch, and one refresh for both processes


async def test_generations_never_go_backwards_after_a_flush(redis_server: RedisServer) -> None:
    """A process whose clock runs ahead bumps a counter; Redis is flushed; another process recreates the
    counter from its own clock. Neither process ever reads a value below one it has seen."""
    link = RedisLink(redis_server.url)
    try:
        ahead = Generations("ns", link=link, channel="ns:c", clock_us=lambda: (1 << 52) - 1_000)
        normal = Generations("ns", link=link, channel="ns:c")
        counter = ahead.counter("k", "o:event:1")
        bumped = (await ahead.bump([counter]))[counter]
        redis_server.client().flushall()

        recreated = await normal.current([counter])
        ahead.distrust()  # as at a gap in the broadcast: read it again
        after_flush = await ahead.current([counter])
        normal.distrust()
        normal_again = await normal.current([counter])

        assert recreated is not None
        assert after_flush == (bumped,)  # the flush made Redis forget it, not this process
        assert normal_again is not None
        assert normal_again[0] >= max(recreated[0], bumped)  # raised to what the other process knew
    finally:
        await link.aclose()


async def test_generations_never_go_backwards_after_a_restart(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    cache = await open_cache()
    key = cache.key_hash("key-a")
    await status(cache, "key-a", upstream)
    await cache.invalidate(key, DEPS)
    counters = [cache._gens.counter(key.digest, scope) for scope in DEPS]
    before = await cache._gens.current(counters)
    assert before is not None

    redis_server.restart()
    link = RedisLink(redis_server.url)
    try:
        another = Generations(cache.config.namespace, link=link)

        async def both_read_them_again() -> bool:
            return None not in (await cache._gens.current(counters), await another.current(counters))

        await eventually(both_read_them_again, "Redis answers again")
        here, there = await cache._gens.current(counters), await another.current(counters)
    finally:
        await link.aclose()

    assert here is not None
    assert there is not None
    assert all(new >= old for new, old in zip(here, before, strict=True))
    assert all(new >= old for new, old in zip(there, before, strict=True))


async def _usable(cache: Cache) -> bool:
    return cache.usable


async def test_redis_killed_mid_traffic_answers_stay_correct_and_hits_come_back(
    redis_server: RedisServer, open_cache: OpenCache
) -> None:
    cache = await open_cache()
    upstream = Upstream()
    requests = [f"GET /event/events/{index}" for index in range(30)]

    async def traffic(rounds: int) -> list[CacheStatus]:
        statuses = []
        for _ in range(rounds):
            for request in requests:
                async with asyncio.timeout(WAIT):  # a hang detector, not a timing assertion
                    result = await cache.get_or_fetch(
                        cache.key_hash("key-a"), request, DEPS, upstream.fetch(request)
                    )
                assert result.value.startswith(f"answer:{request}#".encode())
                statuses.append(result.status)
                await asyncio.sleep(0)  # as a server would, between requests
        return statuses

    await traffic(1)
    running = asyncio.create_task(traffic(5))
    await asyncio.sleep(0)
    redis_server.kill()
    await running  # every answer correct, whatever the cache made of the outage
    await eventually(lambda: _unusable(cache), "the cache notices Redis is gone")
    down = await traffic(1)

    redis_server.start()
    await eventually(lambda: _usable(cache), "the cache uses Redis again")
    back = await traffic(2)

    assert set(down) == {CacheStatus.BYPASS}
    assert back[len(requests) :] == [CacheStatus.HIT] * len(requests)
    assert isinstance(cache.observer, CacheCounts)
    assert sum(cache.observer.redis_errors.values()) >= 1


async def _unusable(cache: Cache) -> bool:
    return not cache.usable


async def test_a_hanging_redis_costs_bounded_time_and_hits_come_back(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    cache = await open_cache()
    redis_server.pause()
    try:
        for index in range(10):  # new requests: each needs Redis, which never answers
            request = f"GET /event/events/{index}"
            async with asyncio.timeout(WAIT):  # a hang detector, not a timing assertion
                result = await cache.get_or_fetch(
                    cache.key_hash("key-a"), request, DEPS, upstream.fetch(request)
                )
            assert result.value.startswith(f"answer:{request}#".encode())
        assert not cache.usable  # the circuit opened: the cache bypasses
    finally:
        redis_server.resume()
    await eventually(lambda: _usable(cache), "the cache uses Redis again")

    assert await status(cache, "key-a", upstream) is CacheStatus.MISS
    assert await status(cache, "key-a", upstream) is CacheStatus.HIT


async def test_a_forced_command_is_sent_while_the_circuit_is_open(redis_server: RedisServer) -> None:
    """A write's invalidation goes out even before this process has seen Redis come back (the others may
    have, and would serve what the write changed)."""
    link = RedisLink(redis_server.url, breaker_cooldown=3600.0)
    try:
        redis_server.kill()
        for _ in range(link.breaker.threshold):
            await link.run("get", get("k"), None)
        assert not link.available
        redis_server.start()

        refused = await link.run("set", put("k", "v"), None)
        forced = await link.run("set", put("k", "v"), None, force=True)

        assert refused is None  # the circuit is open: not sent
        assert forced is True
        assert link.available  # its success closed the circuit
        assert redis_server.client().get("k") == b"v"
    finally:
        await link.aclose()


async def test_a_write_made_while_redis_is_down_reaches_others_when_it_is_back(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    a, b = await open_cache(), await open_cache()
    await status(a, "key-a", upstream)
    await status(b, "key-a", upstream)
    redis_server.pause()
    try:
        await a.invalidate(a.key_hash("key-a"), DEPS)  # Redis cannot take it: a keeps it
        assert not a.usable
    finally:
        redis_server.resume()
    await eventually(lambda: _usable(a), "a sent its pending bump and uses Redis again")

    await until_missed(b, upstream, "b sees the write a made while Redis was down")


async def test_a_write_waits_out_a_redis_that_answers_late_rather_than_leave_others_serving_the_old(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    """Redis frozen for a little longer than one command's timeout (a busy machine, a slow fork): the
    write's invalidation is sent again and lands, so the writer keeps using Redis and no bump waits."""
    a, b = await open_cache(), await open_cache()
    await status(a, "key-a", upstream)
    redis_server.pause()
    asyncio.get_running_loop().call_later(a.config.redis_timeout * 1.5, redis_server.resume)
    try:
        await a.invalidate(a.key_hash("key-a"), DEPS)
    finally:
        redis_server.resume()

    assert a.usable  # nothing was left waiting for Redis

    await until_missed(b, upstream, "b hears of the write")


async def test_a_subscription_restored_by_the_client_library_still_counts_as_a_gap(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    """The subscriber's connection drops while Redis stays up (a proxy, a network blip) and redis-py
    subscribes again by itself: whatever was announced meanwhile was never heard, so the counters are
    read from Redis again rather than trusted."""
    b = await open_cache()
    await status(b, "key-a", upstream)
    assert await status(b, "key-a", upstream) is CacheStatus.HIT
    names = Generations(b.config.namespace)
    client = redis_server.client()
    for scope in DEPS:  # a bump b cannot hear: made in Redis, announced to nobody
        client.incr(names.counter(b.key_hash("key-a").digest, scope))
    assert await status(b, "key-a", upstream) is CacheStatus.HIT  # b trusts what it heard so far

    client.client_kill_filter(_type="pubsub")

    await until_missed(b, upstream, "b reads its counters again after the drop")


async def test_a_cancelled_command_leaves_the_connection_clean(redis_server: RedisServer) -> None:
    """One connection, a command cancelled while Redis holds it; the next command on that connection
    must get its own reply (CVE-2023-28858/28859 gave it the cancelled command's)."""
    client = redis_server.client()
    for index in range(6):
        client.set(f"k{index}", f"v{index}")
    link = RedisLink(redis_server.url, timeout=5.0, max_connections=1)
    try:
        for index in range(0, 6, 2):
            client.execute_command("CLIENT", "PAUSE", "100", "ALL")
            first = asyncio.create_task(link.run("get", get(f"k{index}"), None))
            await asyncio.sleep(0.03)  # sent, and held by the pause
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            assert await link.run("get", get(f"k{index + 1}"), None) == f"v{index + 1}".encode()
        assert link.available
    finally:
        await link.aclose()
        client.close()


async def test_a_command_past_its_timeout_leaves_the_connection_clean(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.set("k1", "v1")
    client.set("k2", "v2")
    link = RedisLink(redis_server.url, timeout=0.05, max_connections=1)
    try:
        client.execute_command("CLIENT", "PAUSE", "300", "ALL")
        assert await link.run("get", get("k1"), "timed out") == "timed out"
        await asyncio.sleep(0.3)
        assert await link.run("get", get("k2"), None) == b"v2"
    finally:
        await link.aclose()
        client.close()


async def test_the_api_key_never_reaches_redis_and_every_key_expires(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    api_key = "f3c1a9d2-7b4e-4c8a-9e21-5d6f7a8b9c0d"
    a, b = await open_cache(), await open_cache()
    key = a.key_hash(api_key)
    for cache in (a, b):
        await status(cache, api_key, upstream)
    await a.invalidate(key, TREE.deleted("category", "c1"))
    await b.drop_key(b.key_hash(api_key))
    await status(a, api_key, upstream)

    client = redis_server.client()
    forbidden = [api_key.encode(), hashlib.sha256(api_key.encode()).hexdigest().encode()]
    names = list(client.scan_iter(count=1000))
    assert len(names) > 5
    for name in names:
        value = client.dump(name) or b""
        for secret in forbidden:
            assert secret not in name
            assert secret not in value
        assert client.pttl(name) > 0, name


async def test_replicas_share_one_secret_kept_in_redis_unless_one_is_configured(
    redis_server: RedisServer, open_cache: OpenCache
) -> None:
    a, b = await open_cache(), await open_cache()
    assert a.key_hash("key-a") == b.key_hash("key-a")
    assert redis_server.client().exists("events-gateway:cache:v1:secret")

    configured = await open_cache(secret="configured secret", namespace="other")
    await configured.get_or_fetch(configured.key_hash("k"), "r", DEPS, Upstream().fetch("r"))
    assert configured.key_hash("key-a") != a.key_hash("key-a")
    assert not redis_server.client().exists("other:secret")


async def test_after_a_flush_every_process_agrees_on_one_secret_again(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    a, b = await open_cache(), await open_cache()
    redis_server.client().flushall()
    c = await open_cache()  # stores a new secret: a and b still hash with the old one
    assert c.key_hash("key-a") != a.key_hash("key-a")

    await c.invalidate(c.key_hash("key-a"), DEPS)  # announced under the new secret: a adopts it
    await status(b, "key-a", upstream, request="GET /new")  # b's counter read meets the new secret

    async def all_agree() -> bool:
        await status(a, "key-a", upstream, request="GET /probe")
        await status(b, "key-a", upstream, request="GET /probe")
        return a.key_hash("key-a") == b.key_hash("key-a") == c.key_hash("key-a")

    await eventually(all_agree, "a and b adopt the secret c stored")
    await status(c, "key-a", upstream, request="GET /shared")
    assert await status(a, "key-a", upstream, request="GET /shared") is CacheStatus.HIT


async def test_a_second_python_process_shares_entries_and_invalidations(
    redis_server: RedisServer, open_cache: OpenCache, upstream: Upstream
) -> None:
    cache = await open_cache()
    peer = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PEER),
        redis_server.url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert peer.stdin is not None
    assert peer.stdout is not None
    stdin, stdout = peer.stdin, peer.stdout

    async def ask(**command: Any) -> dict[str, Any]:
        stdin.write(json.dumps(command).encode() + b"\n")
        await stdin.drain()
        async with asyncio.timeout(WAIT):
            return dict(json.loads(await stdout.readline()))

    try:
        async with asyncio.timeout(WAIT):
            assert (await stdout.readline()).strip() == b"ready"
        assert (await ask(op="key_hash", key="key-a"))["digest"] == cache.key_hash("key-a").digest

        warmed = await cache.get_or_fetch(cache.key_hash("key-a"), EVENTS, DEPS, upstream.fetch(EVENTS))
        seen = await ask(op="get", key="key-a", request=EVENTS, deps=list(DEPS), answer="peer's own")
        other_key = await ask(op="get", key="key-b", request=EVENTS, deps=list(DEPS), answer="key-b's own")
        assert (seen["status"], seen["tier"], seen["value"]) == ("hit", "redis", warmed.value.decode())
        assert (other_key["status"], other_key["value"]) == ("miss", "key-b's own")

        assert await status(cache, "key-a", upstream) is CacheStatus.HIT
        await ask(op="invalidate", key="key-a", scopes=list(TREE.created("event", "e9", parent_id="c1")))

        await until_missed(cache, upstream, "the peer's write invalidates this process's entry")
    finally:
        stdin.close()
        async with asyncio.timeout(WAIT):
            await peer.wait()
