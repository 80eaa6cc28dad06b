"""The cache of upstream answers: an in-process tier over an optional Redis tier, per key hash.

One call serves a read::

    result = await cache.get_or_fetch(key_hash, request, deps, fetch)
    result.value    # the answer's bytes
    result.status   # hit, stale, stale_if_error, miss or bypass (for extensions and metrics)

1. Nothing is cached when the TTL is ``0``, or while a configured Redis is not usable (down, circuit
   open, subscription lost, secret unknown, bumps not yet delivered): then ``fetch`` answers directly
   (``bypass``). Serving from this process's memory alone then could show an answer a write through
   another replica has changed, which nobody could announce. A read-through request (``Cache-Control:
   no-cache``) skips to step 4.
2. The generations of ``deps`` (plus the key hash's epoch and the world counter) are looked up; an entry
   matches only if it was computed under the same ones.
3. A fresh entry (younger than the TTL) answers; a stale one (younger than TTL + STALE) answers too, and
   one refresh starts in the background: one per entry in this process, and one across replicas (a
   Redis lock); ``stale_if_error`` tells that the last refresh failed.
4. Otherwise ``fetch`` runs, once for all concurrent callers of this process (single flight, shielded
   from any one caller's cancellation), and its answer is stored in both tiers under the generations read
   before it ran: a write that lands meanwhile makes it stale-generation at once.

Writes call ``invalidate(key_hash, scopes)``; a 401 or 403 for a key calls ``drop_key(key_hash)``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from .broadcast import Broadcast
from .config import CacheConfig
from .generations import EPOCH, Generations, exchange_secret
from .keys import KeyHash, KeyHasher, new_secret
from .link import RedisLink, cancel_all
from .memory import Entry, MemoryTier
from .observer import CacheObserver, NullObserver
from .scopes import Scope
from .shared import RedisTier

__all__ = ["Cache", "CacheResult", "CacheStatus", "Fetch", "Fetched"]

logger = logging.getLogger("events_gateway.cache")


@dataclass(frozen=True, slots=True)
class Fetched:
    """An answer that was already ``age`` seconds old when ``fetch`` returned it, because it was made of
    cached parts (a whole operation's result built from cached upstream answers): its freshness counts
    from then, so it is never served as fresh for longer than its oldest part could be."""

    value: bytes
    age: float = 0.0


#: What the cache calls on a miss: the answer's bytes (or a ``Fetched``, when the answer is already
#: older than now), or an exception (then nothing is stored).
Fetch = Callable[[], Awaitable[bytes | Fetched]]
#: Seconds ``open`` waits for the invalidation subscription before answering (the cache bypasses until).
SUBSCRIBE_WAIT = 1.0
MEMORY, REDIS, NONE = "memory", "redis", "none"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where one answer is filed: the key hash, the canonical request, and the generation counters it
    depends on with the values they had when it was looked up (an entry matches only those)."""

    key_hash: str
    request: str
    counters: tuple[str, ...]
    generations: tuple[int, ...]

    @property
    def flight(self) -> tuple[str, str, tuple[int, ...]]:
        """What concurrent fetches and refreshes of this process are shared by."""
        return self.key_hash, self.request, self.generations


class CacheStatus(enum.StrEnum):
    HIT = "hit"
    STALE = "stale"
    STALE_IF_ERROR = "stale_if_error"
    MISS = "miss"
    BYPASS = "bypass"


@dataclass(frozen=True, slots=True)
class CacheResult:
    """An answer and where it came from.

    Attributes:
        value: the answer's bytes.
        status: ``hit`` (fresh), ``stale`` (past the TTL, a refresh runs), ``stale_if_error`` (past the
            TTL and the last refresh failed), ``miss`` (fetched now), ``bypass`` (not cached at all).
        tier: ``memory`` or ``redis`` for an entry, ``None`` when fetched.
        age: seconds since the answer was fetched (0 when fetched now).
    """

    value: bytes
    status: CacheStatus
    tier: str | None = None
    age: float = 0.0

    @property
    def from_cache(self) -> bool:
        return self.tier is not None


class Cache:
    """Upstream answers per key hash, in memory and (optionally) in Redis.

    Example::

        async with await Cache.open(CacheConfig(redis_url="redis://127.0.0.1:6379/0")) as cache:
            key_hash = cache.key_hash(api_key)
            result = await cache.get_or_fetch(key_hash, "GET /event/events/?page=1", deps, fetch)
            await cache.invalidate(key_hash, hierarchy.created("event", new_id, parent_id=category_id))
    """

    def __init__(
        self,
        config: CacheConfig,
        *,
        link: RedisLink | None = None,
        observer: CacheObserver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prefer :meth:`open`, which also connects. ``link`` shares a Redis client with other parts (the
        persisted-query store); the cache then does not close it. Without ``link``, the cache opens one
        when ``config.redis_url`` is set."""
        self.config = config
        self.observer: CacheObserver = observer or NullObserver()
        self._clock = clock
        self._owns_link = link is None and config.redis_url is not None and config.enabled
        if self._owns_link:
            link = RedisLink.from_config(config, observer=self.observer)
        self._link = link if config.enabled else None
        self.memory = MemoryTier(config.max_bytes)
        channel = f"{config.namespace}:invalidations"
        self._gens = Generations(
            config.namespace,
            link=self._link,
            channel=channel,
            counter_ttl=config.counter_ttl,
            max_entries=config.max_generations,
        )
        self._gens.on_secret_mismatch = self._secret_mismatch
        self._redis: RedisTier | None = None
        self._broadcast: Broadcast | None = None
        if self._link is not None:
            self._redis = RedisTier(self._link, config.namespace, lock_ttl=config.lock_ttl)
            self._broadcast = Broadcast(
                self._link, channel, on_message=self._received, on_gap=self._gap, on_tick=self._upkeep
            )
        # The secret: configured, else per process (no Redis), else shared through Redis (see keys.py).
        self._fixed_secret = config.secret is not None
        self._hasher = KeyHasher(config.secret) if config.secret is not None else KeyHasher.random()
        self._secret_ready = self._fixed_secret or self._link is None
        self._set_secret_id()
        self._was_usable = False
        self._warned_foreign_secret = False
        self._flights: dict[tuple[str, str, tuple[int, ...]], asyncio.Task[Fetched]] = {}
        self._refreshing: set[tuple[str, str, tuple[int, ...]]] = set()
        self._background: set[asyncio.Task[Any]] = set()

    @classmethod
    async def open(
        cls,
        config: CacheConfig,
        *,
        link: RedisLink | None = None,
        observer: CacheObserver | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Cache:
        """A cache ready to serve: with Redis, the shared secret fetched and the subscription made (when
        Redis answers within about a second; otherwise it keeps trying, and bypasses until it succeeds)."""
        cache = cls(config, link=link, observer=observer, clock=clock)
        await cache.start()
        return cache

    async def start(self) -> None:
        if self._broadcast is None:
            return
        await self._upkeep()
        self._broadcast.start()
        await self._broadcast.wait_subscribed(SUBSCRIBE_WAIT)

    async def drain(self) -> None:
        """Wait until every background refresh and fill has finished (tests, benchmarks, shutdown)."""
        while self._background:
            await asyncio.wait(set(self._background))

    async def aclose(self) -> None:
        if self._broadcast is not None:
            await self._broadcast.aclose()
        await cancel_all(set(self._background))
        if self._owns_link and self._link is not None:
            await self._link.aclose()

    async def __aenter__(self) -> Cache:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- who ---------------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def key_hash(self, api_key: str) -> KeyHash:
        """The caller's key as entries are filed under it (the key itself is not kept)."""
        return self._hasher.hash(api_key)

    @property
    def usable(self) -> bool:
        """Whether entries are served and stored now (always, without Redis; with Redis, while it is
        answering, subscribed without a gap, the secret known and no bump is waiting to be sent)."""
        if self._link is None:
            return True
        assert self._broadcast is not None
        usable = (
            self._broadcast.subscribed
            and self._link.available
            and self._secret_ready
            and not self._gens.pending
        )
        if usable != self._was_usable:
            self._was_usable = usable
            self._gens.distrust()  # bumps may have been missed meanwhile: read the counters again
        return usable

    # --- reads -------------------------------------------------------------------------------------

    async def get_or_fetch(
        self,
        key_hash: KeyHash,
        request: str,
        deps: Sequence[Scope],
        fetch: Fetch,
        *,
        read_through: bool = False,
    ) -> CacheResult:
        """The answer to ``request`` for ``key_hash``: cached when it may be, else from ``fetch``.

        ``request`` names the request in one spelling for all who send it (the gateway's client: the URL
        as sent; else :func:`canonical_request`); ``deps`` the scopes its answer depends on
        (:class:`Hierarchy`); ``fetch`` is called at most once per miss and must not depend on the caller
        staying: it may run on (shielded from cancellation, and in the background for a refresh).
        ``read_through`` skips cached answers (``Cache-Control: no-cache``) and stores the new.
        Exceptions from ``fetch`` reach the caller on a miss; nothing is stored then.
        """
        if not self.enabled or not self.usable or key_hash.secret_id != self._hasher.secret_id:
            return await self._bypass(fetch)
        counters = self._counters(key_hash.digest, deps)
        generations = await self._gens.current(counters)
        if generations is None:
            return await self._bypass(fetch)
        slot = _Slot(key_hash.digest, request, counters, generations)
        if not read_through:
            found = await self._lookup(slot)
            if found is not None:
                entry, tier = found
                now = self._clock()
                if now < entry.fresh_until:
                    self.observer.record_cache_event(tier, "hit")
                    return CacheResult(entry.value, CacheStatus.HIT, tier, now - entry.stored_at)
                self.observer.record_cache_event(tier, "stale")
                self._refresh_later(slot, entry, fetch)
                status = CacheStatus.STALE_IF_ERROR if entry.refresh_failed else CacheStatus.STALE
                return CacheResult(entry.value, status, tier, now - entry.stored_at)
        fetched = await self._fill(slot, fetch)
        return CacheResult(fetched.value, CacheStatus.MISS, None, fetched.age)

    async def _lookup(self, slot: _Slot) -> tuple[Entry, str] | None:
        now = self._clock()
        entry = self.memory.get(slot.key_hash, slot.request, now=now)
        if entry is not None and (entry.counters != slot.counters or entry.generations != slot.generations):
            self.memory.discard(slot.key_hash, slot.request)  # invalidated since
            entry = None
        if entry is not None and (now < entry.fresh_until or self._redis is None):
            return entry, MEMORY
        if entry is None:
            self.observer.record_cache_event(MEMORY, "miss")
        if self._redis is None:
            return None
        # Stale here: another replica may have refreshed it already.
        shared = await self._redis.get(slot.key_hash, slot.request, slot.counters, slot.generations)
        now = self._clock()
        if (
            shared is not None
            and now < shared.stale_until
            and (entry is None or shared.stored_at > entry.stored_at)
        ):
            self.memory.put(slot.key_hash, slot.request, shared)
            return shared, REDIS
        if entry is not None:
            return entry, MEMORY
        self.observer.record_cache_event(REDIS, "miss")
        return None

    async def _fill(self, slot: _Slot, fetch: Fetch) -> Fetched:
        """``fetch`` once for every concurrent caller with the same key hash, request and generations."""
        flight = slot.flight
        future = self._flights.get(flight)
        if future is None:
            future = self._spawn(self._fetch_and_store(slot, fetch))
            self._flights[flight] = future
            future.add_done_callback(lambda done: self._flights.pop(flight, None))
        return await asyncio.shield(future)

    async def _fetch_and_store(self, slot: _Slot, fetch: Fetch) -> Fetched:
        fetched = _fetched(await fetch())
        await self._store(slot, fetched)
        return fetched

    async def _store(self, slot: _Slot, fetched: Fetched) -> None:
        now = self._clock()
        born = now - max(0.0, fetched.age)
        config = self.config
        entry = Entry(
            fetched.value, born, born + config.ttl, born + config.lifetime, slot.counters, slot.generations
        )
        if not self.usable or entry.stale_until <= now:
            # Redis trouble began while it was fetched (keep nothing learned across the gap), or the
            # answer was made of parts too old to serve at all.
            return
        self.memory.put(slot.key_hash, slot.request, entry)
        if self._redis is not None:
            await self._redis.set(slot.key_hash, slot.request, entry, now=now)

    def _refresh_later(self, slot: _Slot, entry: Entry, fetch: Fetch) -> None:
        flight = slot.flight
        if flight in self._refreshing:
            return  # this process refreshes it already
        self._refreshing.add(flight)
        task = self._spawn(self._refresh(slot, entry, fetch))
        task.add_done_callback(lambda done: self._refreshing.discard(flight))

    async def _refresh(self, slot: _Slot, entry: Entry, fetch: Fetch) -> None:
        """Fetch a stale entry again, if no other replica does; on failure keep serving it stale."""
        token = None
        entry_key = ""
        if self._redis is not None:
            entry_key = self._redis.entry_key(slot.key_hash, slot.request, slot.counters, slot.generations)
            token = await self._redis.lock(entry_key)
            if token is None:
                return  # another replica refreshes it (or Redis is busy): stale here a little longer
        tier = MEMORY if token is None else REDIS
        self.observer.record_cache_event(tier, "refresh")
        try:
            fetched = _fetched(await fetch())
        except Exception as exc:
            entry.refresh_failed = True
            self.observer.record_cache_event(tier, "refresh_error")
            logger.info(
                "cache refresh failed (%s); the stale answer is served until it expires", type(exc).__name__
            )
        else:
            await self._store(slot, fetched)
        finally:
            if token is not None and self._redis is not None:
                await self._redis.unlock(entry_key, token)

    def _spawn(self, work: Awaitable[T]) -> asyncio.Task[T]:
        """Run ``work`` in a task of its own (cancelled by ``aclose``); its failure, if no caller is left
        to receive it, is retrieved here rather than reported as never retrieved."""
        task = asyncio.ensure_future(work)
        self._background.add(task)

        def done(finished: asyncio.Task[T]) -> None:
            self._background.discard(finished)
            if not finished.cancelled():
                finished.exception()

        task.add_done_callback(done)
        return task

    async def _bypass(self, fetch: Fetch) -> CacheResult:
        self.observer.record_cache_event(NONE, "bypass")
        fetched = _fetched(await fetch())
        return CacheResult(fetched.value, CacheStatus.BYPASS, None, fetched.age)

    # --- writes ------------------------------------------------------------------------------------

    async def invalidate(self, key_hash: KeyHash, scopes: Iterable[Scope]) -> None:
        """A write through this gateway changed ``scopes`` for ``key_hash``: no entry computed before it is
        served again, in any process (the bump is announced through Redis; while Redis is down it waits,
        and the cache bypasses until it is sent)."""
        if not self.enabled:
            return
        if not self._secret_ready or key_hash.secret_id != self._hasher.secret_id:
            # Hashed with a secret that is not (or no longer) the shared one: other processes file this
            # key's entries under another hash, which cannot be derived here. Bump everything.
            counters = [self._gens.world]
        else:
            counters = [self._gens.counter(key_hash.digest, scope) for scope in scopes]
        self.observer.record_cache_event(MEMORY, "invalidation")
        await self._gens.bump(counters)

    async def drop_key(self, key_hash: KeyHash) -> None:
        """The upstream refused this key (401, 403): drop all of its entries, in every process."""
        if not self.enabled:
            return
        self.memory.drop_key_hash(key_hash.digest)
        self.observer.record_cache_event(MEMORY, "drop")
        await self.invalidate(key_hash, (EPOCH,))

    # --- upkeep ------------------------------------------------------------------------------------

    def _counters(self, key_hash: str, deps: Sequence[Scope]) -> tuple[str, ...]:
        names = {self._gens.counter(key_hash, scope) for scope in deps}
        names.add(self._gens.counter(key_hash, EPOCH))
        names.add(self._gens.world)
        return tuple(sorted(names))

    def _received(self, data: bytes) -> None:
        """Another process's (or our own) bump: ``<secret id>\\n<counter> <value>\\n…``."""
        lines = data.decode("utf-8", "replace").split("\n")
        if lines[0] != self._hasher.secret_id:
            self._foreign_secret()
            return
        values: dict[str, int] = {}
        for line in lines[1:]:
            name, _, value = line.rpartition(" ")
            if name and value.isdigit():
                values[name] = int(value)
        self._gens.merge(values)
        self.observer.record_cache_event(REDIS, "invalidation")
        for name in values:
            parsed = self._gens.parse(name)
            if parsed is not None and parsed[1] == EPOCH:
                self.memory.drop_key_hash(parsed[0])  # a refused key: free its memory at once

    def _foreign_secret(self) -> None:
        if not self._fixed_secret:
            self._secret_mismatch()
        elif not self._warned_foreign_secret:
            self._warned_foreign_secret = True
            logger.error(
                "another process announces cache invalidations under another EVENTS_GATEWAY_CACHE_SECRET; "
                "give every replica the same one, or they cannot invalidate each other's entries"
            )

    def _secret_mismatch(self) -> None:
        self._secret_ready = False

    def _gap(self) -> None:
        self._gens.distrust()

    def _forget(self) -> None:
        """Drop all that was filed under the old secret's key hashes (nobody can reach it any more)."""
        self._gens.forget()
        self.memory.clear()

    async def _upkeep(self) -> None:
        """Probe a Redis whose circuit is open, learn the shared secret, send bumps Redis missed."""
        assert self._link is not None
        if not self._link.available:
            await self._link.ping()
        if not self._secret_ready:
            await self._adopt_secret()
        if self._secret_ready and self._gens.pending:
            await self._gens.send_pending()

    async def _adopt_secret(self) -> None:
        """Take the secret Redis holds, or store ours there if it holds none (``SET NX``)."""
        assert self._link is not None
        secret = await exchange_secret(self._link, self.config.namespace, new_secret())
        if secret is None:
            return
        if secret != self._gens.shared_secret:
            self._hasher = KeyHasher(secret)
            self._gens.shared_secret = secret
            self._set_secret_id()
            self._gens.lose_pending_keys()  # made under the old secret: a world bump stands for them
            self._forget()
        self._secret_ready = True

    def _set_secret_id(self) -> None:
        self._gens.secret_id = self._hasher.secret_id

    def __repr__(self) -> str:
        tiers = "memory+redis" if self._link is not None else "memory"
        return f"Cache({tiers}, ttl={self.config.ttl}, stale={self.config.stale})"


def _fetched(answer: bytes | Fetched) -> Fetched:
    return answer if isinstance(answer, Fetched) else Fetched(answer)
