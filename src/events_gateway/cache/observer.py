"""What the cache reports, as two calls any metrics registry can answer (the gateway's Prometheus one does).

Events, by tier (``memory``, ``redis``):

- ``hit``: a fresh entry answered; ``stale``: a stale one answered (a refresh runs, or the upstream fails);
- ``miss``: no usable entry (the upstream was asked); ``bypass`` (tier ``none``): the cache was skipped
  (turned off, a read-through request, or Redis unusable while configured);
- ``refresh``: a refresh started; ``refresh_error``: one failed (stale-if-error takes over);
- ``invalidation``: generation counters bumped by a write here (``memory``), or received from another
  process (``redis``); ``drop``: every entry of one key hash dropped (a 401 or 403).

Redis errors, by operation (``get``, ``set``, ``generations``, ``bump``, ``lock``, ``subscribe``, …):
one per failed or timed-out command, and one per command refused while the circuit is open.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

__all__ = ["CacheCounts", "CacheObserver", "NullObserver"]


class CacheObserver(Protocol):
    """Receives the cache's counts; must be cheap and must not raise."""

    def record_cache_event(self, tier: str, event: str) -> None: ...

    def record_cache_redis_error(self, operation: str) -> None: ...


class NullObserver:
    """Counts nothing."""

    def record_cache_event(self, tier: str, event: str) -> None:
        pass

    def record_cache_redis_error(self, operation: str) -> None:
        pass


class CacheCounts:
    """Counts in two ``Counter``s, for tests and benchmarks: ``counts.events["memory", "hit"]``."""

    def __init__(self) -> None:
        self.events: Counter[tuple[str, str]] = Counter()
        self.redis_errors: Counter[str] = Counter()

    def record_cache_event(self, tier: str, event: str) -> None:
        self.events[tier, event] += 1

    def record_cache_redis_error(self, operation: str) -> None:
        self.redis_errors[operation] += 1
