"""The cache of upstream answers: per caller's key hash, in memory and optionally in Redis, invalidated by
generation counters along the category → event → property hierarchy (docs/cache.md).

It imports nothing from ``graph`` or ``server``; the upstream fetch engine and the server use it::

    cache = await Cache.open(CacheConfig(ttl=5.0, stale=60.0, redis_url=url), observer=metrics)
    key_hash = cache.key_hash(api_key)
    result = await cache.get_or_fetch(key_hash, canonical_request("GET", path, params), deps, fetch)
    await cache.invalidate(key_hash, TREE.created("event", event_id, parent_id=category_id))
    await cache.drop_key(key_hash)          # the upstream answered 401 or 403 for this key
    await cache.aclose()

``RedisLink`` is the one Redis client of a process (the persisted-query store shares it).
"""

from .broadcast import Broadcast
from .cache import Cache, CacheResult, CacheStatus, Fetch, Fetched
from .config import DEFAULT_CACHE_MAX_BYTES, DEFAULT_CACHE_STALE, DEFAULT_CACHE_TTL, CacheConfig
from .generations import EPOCH, WORLD, exchange_secret
from .keys import KeyHash, KeyHasher, canonical_request, new_secret
from .link import RedisLink
from .memory import Entry, MemoryTier
from .observer import CacheCounts, CacheObserver, NullObserver
from .scopes import Hierarchy, Scope

__all__ = [
    "DEFAULT_CACHE_MAX_BYTES",
    "DEFAULT_CACHE_STALE",
    "DEFAULT_CACHE_TTL",
    "EPOCH",
    "WORLD",
    "Broadcast",
    "Cache",
    "CacheConfig",
    "CacheCounts",
    "CacheObserver",
    "CacheResult",
    "CacheStatus",
    "Entry",
    "Fetch",
    "Fetched",
    "Hierarchy",
    "KeyHash",
    "KeyHasher",
    "MemoryTier",
    "NullObserver",
    "RedisLink",
    "Scope",
    "canonical_request",
    "exchange_secret",
    "new_secret",
]
