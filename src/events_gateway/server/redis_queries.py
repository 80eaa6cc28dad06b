"""Persisted queries shared through Redis, so a hash registered through one worker or replica is known to all.

A :class:`~.persisted_queries.PersistedQueryStore` over the process's :class:`~..cache.RedisLink`, with the
in-memory store in front: a document this process has seen answers from memory, and anything Redis cannot
do (down, slow, circuit open) falls back to memory alone, so Redis trouble costs at most a
``PERSISTED_QUERY_NOT_FOUND`` that the client answers by sending the document again.

Keys are ``events-gateway:apq:v1:<sha256>``, each with a TTL that every read renews (``GETEX``), so documents
nobody sends any more leave by themselves; Redis's memory is bounded by that TTL, by the document size
limit (``EVENTS_GATEWAY_MAX_DOCUMENT_BYTES``: only documents that ran are stored) and by its own
``maxmemory`` (any eviction policy is safe: a lost document is a miss).
"""

from __future__ import annotations

from ..cache import RedisLink
from .persisted_queries import MemoryQueryStore

__all__ = ["PERSISTED_QUERY_TTL", "RedisQueryStore"]

#: Seconds a stored document lives in Redis after it was last sent (a week).
PERSISTED_QUERY_TTL = 7 * 24 * 3600.0
#: Prefix of the documents' keys.
NAMESPACE = "events-gateway:apq:v1"


class RedisQueryStore:
    """Documents by SHA-256 in Redis, with this process's memory store in front and as the fallback.

    Example::

        store = RedisQueryStore(link, MemoryQueryStore(max_entries=10_000, max_bytes=16 << 20))
        await store.set(sha, query)     # memory at once, Redis when it answers
        await store.get(sha)            # memory, else Redis (then memory too), else None
    """

    def __init__(
        self,
        link: RedisLink,
        memory: MemoryQueryStore,
        *,
        ttl: float = PERSISTED_QUERY_TTL,
        namespace: str = NAMESPACE,
    ) -> None:
        self.link = link
        self.memory = memory
        self._prefix = f"{namespace}:"
        self._ttl_ms = int(ttl * 1000)

    async def get(self, sha256_hash: str) -> str | None:
        query = await self.memory.get(sha256_hash)
        if query is not None:
            return query
        key = self._prefix + sha256_hash
        raw = await self.link.run("pq_get", lambda r: r.getex(key, px=self._ttl_ms), None)
        if not isinstance(raw, bytes):
            return None
        query = raw.decode()
        await self.memory.set(sha256_hash, query)
        return query

    async def set(self, sha256_hash: str, query: str) -> None:
        await self.memory.set(sha256_hash, query)
        key = self._prefix + sha256_hash
        await self.link.run("pq_set", lambda r: r.set(key, query.encode(), px=self._ttl_ms), None)
