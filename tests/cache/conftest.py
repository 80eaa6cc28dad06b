"""Helpers for the cache's tests: an upstream stand-in that counts its calls, and a clock a test moves.

The cache's contract with the upstream is one callable (``fetch``), so the stand-in is that callable: it
answers bytes naming the request and how many times it was called, or raises when told to.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from events_gateway.cache import Cache, CacheConfig, CacheCounts, Hierarchy

TREE = Hierarchy(("category", "event", "property"))


class Upstream:
    """Counts calls per request; answers ``b"<tag>:<request>#<n>"``, or raises ``failure`` when set."""

    def __init__(self, tag: str = "answer") -> None:
        self.tag = tag
        self.calls: Counter[str] = Counter()
        self.failure: Exception | None = None
        self.gate: asyncio.Event | None = None

    def fetch(self, request: str) -> Callable[[], Awaitable[bytes]]:
        async def call() -> bytes:
            self.calls[request] += 1
            if self.gate is not None:
                await self.gate.wait()
            if self.failure is not None:
                raise self.failure
            return f"{self.tag}:{request}#{self.calls[request]}".encode()

        return call


class Clock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def memory_cache(clock: Clock) -> AsyncIterator[Cache]:
    """A memory-only cache (TTL 5 s, stale 60 s) on a clock the test moves."""
    cache = Cache(CacheConfig(ttl=5, stale=60), observer=CacheCounts(), clock=clock)
    await cache.start()
    yield cache
    await cache.aclose()
