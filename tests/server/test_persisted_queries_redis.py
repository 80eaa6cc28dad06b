"""Persisted queries shared through a real Redis: registered through one gateway, known to another; Redis
gone, the memory store answers; the store never raises."""

from __future__ import annotations

import httpx

from events_gateway.cache import RedisLink
from events_gateway.server import RedisQueryStore
from events_gateway.server.persisted_queries import MemoryQueryStore, sha256_hex
from events_gateway.server.redis_queries import NAMESPACE, PERSISTED_QUERY_TTL

from ..redis_process import RedisServer
from .conftest import GatewayFactory
from .test_persisted_queries import QUERY, codes, persisted


def memory() -> MemoryQueryStore:
    return MemoryQueryStore(max_entries=100, max_bytes=1 << 20)


async def test_a_hash_registered_through_one_gateway_runs_through_another(
    gateway_factory: GatewayFactory,
    redis_server: RedisServer,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
) -> None:
    first = await gateway_factory(redis_url=redis_server.url)
    second = await gateway_factory(redis_url=redis_server.url)
    alone = await gateway_factory()  # no Redis: knows only what it was sent itself

    registered = await http.post(f"{first}/graphql", json=persisted(QUERY), headers=api_headers)
    by_hash = persisted(sha=sha256_hex(QUERY))
    shared = await http.post(f"{second}/graphql", json=by_hash, headers=api_headers)
    unshared = await http.post(f"{alone}/graphql", json=by_hash, headers=api_headers)

    assert registered.status_code == 200
    assert shared.json() == registered.json()
    assert codes(unshared.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    ttl = redis_server.client().pttl(f"{NAMESPACE}:{sha256_hex(QUERY)}")
    assert 0 < ttl <= PERSISTED_QUERY_TTL * 1000


async def test_with_redis_gone_the_memory_store_answers_and_nothing_raises(redis_server: RedisServer) -> None:
    link = RedisLink(redis_server.url)
    try:
        store = RedisQueryStore(link, memory())
        other = RedisQueryStore(link, memory())
        await store.set("a" * 64, "{ a }")
        assert await other.get("a" * 64) == "{ a }"  # from Redis

        redis_server.kill()
        await store.set("b" * 64, "{ b }")  # Redis cannot take it; memory does

        assert await store.get("b" * 64) == "{ b }"
        assert await store.get("a" * 64) == "{ a }"
        assert await other.get("b" * 64) is None  # a miss: the client sends the document again
    finally:
        await link.aclose()


async def test_documents_come_back_when_redis_does(redis_server: RedisServer) -> None:
    link = RedisLink(redis_server.url, breaker_cooldown=0.0)
    try:
        redis_server.kill()
        store = RedisQueryStore(link, memory())
        for _ in range(5):
            await store.set("c" * 64, "{ c }")
        redis_server.start()
        await store.set("c" * 64, "{ c }")

        assert await RedisQueryStore(link, memory()).get("c" * 64) == "{ c }"
    finally:
        await link.aclose()


async def test_a_gateway_whose_redis_is_down_still_serves_persisted_queries_and_counts_the_errors(
    gateway_factory: GatewayFactory,
    redis_server: RedisServer,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
) -> None:
    gateway = await gateway_factory(redis_url=redis_server.url)
    redis_server.kill()

    miss = await http.post(f"{gateway}/graphql", json=persisted(sha=sha256_hex(QUERY)), headers=api_headers)
    registered = await http.post(f"{gateway}/graphql", json=persisted(QUERY), headers=api_headers)
    hit = await http.post(f"{gateway}/graphql", json=persisted(sha=sha256_hex(QUERY)), headers=api_headers)
    metrics = (await http.get(f"{gateway}/metrics")).text

    assert codes(miss.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert registered.status_code == 200
    assert hit.json() == registered.json()  # from this process's memory
    assert 'events_gateway_cache_redis_errors_total{operation="pq_get"}' in metrics
