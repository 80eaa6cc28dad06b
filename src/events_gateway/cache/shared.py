"""The Redis tier: entries under keys that embed their generations, and one refresh lock per entry.

An entry's key is ``<ns>:e:<key hash>:<digest>``, the digest covering the request and the generation of
every counter it depends on; after a bump nobody computes the old key again, and the old entry expires
by its TTL (its stale deadline). Nothing is listed, scanned or deleted. Memory in Redis is bounded by
those TTLs and by Redis's own ``maxmemory`` (any eviction policy is safe: a lost entry is a miss, and
a lost counter comes back above its old value).

The refresh lock is ``SET NX PX``: one replica refreshes an entry while the others keep serving it stale;
if the holder dies, the lock expires after ``lock_ttl``.
"""

from __future__ import annotations

import hashlib
import math
import secrets

from .link import RedisLink
from .memory import Entry

__all__ = ["RedisTier"]

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisTier:
    """Entries and refresh locks of every key hash in one Redis."""

    def __init__(self, link: RedisLink, namespace: str, *, lock_ttl: float) -> None:
        self._link = link
        self._entries = f"{namespace}:e:"
        self._locks = f"{namespace}:l:"
        self._lock_ttl_ms = max(1, int(lock_ttl * 1000))
        self._unlock = link.script(_UNLOCK)

    def entry_key(
        self, key_hash: str, request: str, counters: tuple[str, ...], generations: tuple[int, ...]
    ) -> str:
        """The Redis key of one request's entry under these generations."""
        digest = hashlib.sha256(request.encode())
        for name, value in zip(counters, generations, strict=True):
            digest.update(f"\n{name}={value}".encode())
        return f"{self._entries}{key_hash}:{digest.hexdigest()[:40]}"

    async def get(
        self, key_hash: str, request: str, counters: tuple[str, ...], generations: tuple[int, ...]
    ) -> Entry | None:
        """The entry, or ``None`` when absent or when Redis could not answer."""
        key = self.entry_key(key_hash, request, counters, generations)
        raw = await self._link.run("get", lambda r: r.get(key), None)
        if not isinstance(raw, bytes):
            return None
        return Entry.decode(raw, counters, generations)

    async def set(self, key_hash: str, request: str, entry: Entry, *, now: float) -> bool:
        """Store ``entry`` until its stale deadline; whether Redis took it."""
        ttl_ms = math.ceil((entry.stale_until - now) * 1000)
        if ttl_ms <= 0:
            return False
        key = self.entry_key(key_hash, request, entry.counters, entry.generations)
        data = entry.encode()
        return bool(await self._link.run("set", lambda r: r.set(key, data, px=ttl_ms), False))

    async def lock(self, entry_key: str) -> str | None:
        """Take the refresh lock of one entry; its token, or ``None`` when another holds it (or Redis
        did not answer: then nobody here refreshes, and the entry is served stale a little longer)."""
        token = secrets.token_hex(8)
        key = self._locks + entry_key.removeprefix(self._entries)
        taken = await self._link.run("lock", lambda r: r.set(key, token, nx=True, px=self._lock_ttl_ms), None)
        return token if taken else None

    async def unlock(self, entry_key: str, token: str) -> None:
        key = self._locks + entry_key.removeprefix(self._entries)
        await self._link.run_script("unlock", self._unlock, [key], [token])
