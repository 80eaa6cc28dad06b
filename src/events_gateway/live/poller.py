"""One live query: one poll loop, shared by every subscriber of the same (key, document, variables).

The loop runs the query, compares the complete result with the last one it delivered (a hash of its
JSON, ``data`` and ``errors`` together), and hands a changed result to every subscriber's
one-slot mailbox; an unchanged one goes nowhere. Then it waits for the interval, or less when told that
the gateway itself just wrote something the query reads (:meth:`LiveQuery.rerun`).

What a poll's answer can also mean:

- ``UNAUTHENTICATED`` (no key, or a key the upstream refuses): delivered, then every subscription ends;
  polling on a key that cannot read would cost the upstream for nothing, forever;
- only upstream trouble (``RATE_LIMITED``, ``UPSTREAM_TIMEOUT``, ``UPSTREAM_UNAVAILABLE``) after a result
  was already delivered: not delivered (subscribers keep the last good tree rather than see it blink
  to ``null`` and back), and the next poll waits twice as long, up to :data:`MAX_BACKOFF` intervals.

With a :class:`Coordination` (Redis, across replicas), the loop polls only while its replica holds the
query's lease, publishes what changed, and otherwise delivers what the holder shares (:meth:`offer_shared`).

The loop runs in a context of its own (no request's deadline, record or write listener leaks into it)
and stops when its last subscriber leaves (a poll under way finishes first, and is delivered to no one).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

import orjson
from graphql import ExecutionResult

from ..graph import ErrorCode, LiveEvent
from .mailbox import Mailbox

__all__ = ["MAX_BACKOFF", "Coordination", "LiveObserver", "LiveQuery", "Subscriber"]

#: Codes that say the upstream could not answer now, not that the answer changed.
TRANSIENT: Final = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.UPSTREAM_TIMEOUT, ErrorCode.UPSTREAM_UNAVAILABLE}
)
#: The longest wait after upstream trouble, in intervals.
MAX_BACKOFF: Final = 8

logger = logging.getLogger("events_gateway.live")

#: Runs the query once and returns its complete result.
Run = Callable[[], Awaitable[ExecutionResult]]


class Coordination(Protocol):
    """How a live query shares its polling with other replicas (``bus.py``); ``None``: it polls alone."""

    async def lead(self) -> bool:
        """Whether this replica polls now (taking or renewing the lease)."""
        ...

    async def resign(self) -> None:
        """This replica stops polling: let another take over."""

    async def publish(self, digest: str, event: LiveEvent) -> None:
        """A changed result, for the other replicas' subscribers."""

    async def latest(self) -> tuple[str, LiveEvent] | None:
        """The latest result shared by the replica that polls, with its digest."""
        ...


class LiveObserver(Protocol):
    """What a live query reports, for metrics."""

    def record_live_poll(self, reason: str, changed: bool) -> None:
        """One run of a query: ``first``, ``interval`` or ``write``; whether its answer changed."""

    def record_live_push(self, subscribers: int, latency: float | None) -> None:
        """A changed answer handed to ``subscribers``; ``latency``: seconds since the write that caused
        it, when a write did."""

    def set_live_counts(self, subscriptions: int, queries: int) -> None:
        """Subscriptions open and live queries polling, now."""


def encode(result: ExecutionResult) -> tuple[str, bytes | None]:
    """A hash of the result's JSON, ``data`` and ``errors`` together, and ``data`` encoded (``None`` when
    orjson cannot encode it: an integer over 64 bits in a JSON scalar).

    The JSON of one document's result is canonical as it is: the executor lays out fields in the
    document's order, so equal results encode to equal bytes.
    """
    errors = orjson.dumps([error.formatted for error in result.errors or ()], option=orjson.OPT_NON_STR_KEYS)
    data: bytes | None
    try:
        data = text = orjson.dumps(result.data, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        data, text = None, json.dumps(result.data, separators=(",", ":"), default=str).encode()
    return hashlib.blake2b(text + b"\0" + errors, digest_size=16).hexdigest(), data


def _codes(result: ExecutionResult) -> set[str]:
    return {str((error.extensions or {}).get("code")) for error in result.errors or ()}


class Subscriber:
    """One subscription to a live query: an async iterator of its changed results; ``aclose`` leaves."""

    __slots__ = ("_left", "_mailbox", "_on_leave", "_query")

    def __init__(self, query: LiveQuery, on_leave: Callable[[], None] | None = None) -> None:
        self._query = query
        self._on_leave = on_leave
        self._mailbox: Mailbox[LiveEvent] = Mailbox()
        self._left = False

    def __aiter__(self) -> Subscriber:
        return self

    async def __anext__(self) -> LiveEvent:
        return await self._mailbox.get()

    async def aclose(self) -> None:
        """Leave the live query (once, however often it is called)."""
        if not self._left:
            self._left = True
            self._query.leave(self)
            if self._on_leave is not None:
                self._on_leave()

    def deliver(self, event: LiveEvent) -> None:
        self._mailbox.put(event)

    def end(self) -> None:
        self._mailbox.close()


class LiveQuery:
    """The poll loop of one (key hash, document, variables), and its subscribers.

    Example::

        query = LiveQuery(run, interval=5.0, observer=metrics, on_idle=registry.drop)
        subscriber = query.join()          # the loop starts with the first subscriber
        event = await anext(subscriber)    # the current result
        query.rerun(time.perf_counter())   # a write: poll now, not at the interval
        await subscriber.aclose()          # the last one out stops the loop
    """

    def __init__(
        self,
        run: Run,
        *,
        interval: float,
        observer: LiveObserver,
        on_idle: Callable[[LiveQuery], None],
        coordination: Coordination | None = None,
    ) -> None:
        self._run = run
        self._coordination = coordination
        self._interval = interval
        self._observer = observer
        self._on_idle = on_idle
        self.subscribers: set[Subscriber] = set()
        self._latest: LiveEvent | None = None
        self._digest: str | None = None
        self._wake = asyncio.Event()
        self._written_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self.polls = 0
        self.ended = False

    def join(self, on_leave: Callable[[], None] | None = None) -> Subscriber:
        """A new subscriber; it gets the latest result at once when there is one, else the first poll's.
        ``on_leave`` is called when it leaves."""
        subscriber = Subscriber(self, on_leave)
        self.subscribers.add(subscriber)
        if self._latest is not None:
            subscriber.deliver(self._latest)
        if self._task is None:
            # A context of its own: the subscribing request's deadline and record must not follow it.
            self._task = asyncio.get_running_loop().create_task(
                self._loop(), name="events-gateway live query", context=contextvars.Context()
            )
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        """``subscriber`` is gone; the last one out stops the polling."""
        subscriber.end()
        self.subscribers.discard(subscriber)
        if not self.subscribers:
            self._stop()

    def rerun(self, written_at: float) -> None:
        """Something this query reads was just written (``time.perf_counter()`` then): poll now."""
        if self._written_at is None:
            self._written_at = written_at
        self._wake.set()

    def end(self) -> None:
        """Complete every subscription (each gets the result waiting for it first) and stop polling."""
        for subscriber in list(self.subscribers):
            subscriber.end()
        self.subscribers.clear()
        self._stop()

    async def wait_stopped(self) -> None:
        """Until the loop has finished (a poll under way ends first, within the request deadline)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    def _stop(self) -> None:
        """End the loop: a sleeping one wakes and returns; a running poll finishes first (never cut off
        halfway: its loaders' batches would be left with no one to hear how they ended)."""
        if not self.ended:
            self.ended = True
            self._wake.set()
            self._on_idle(self)

    async def _loop(self) -> None:
        try:
            await self._polls()
        except Exception:  # a bug: say so, and end the subscriptions rather than leave them waiting
            logger.exception("live query stopped by an unexpected error")
            self.end()

    async def _polls(self) -> None:
        reason = "first"
        backoff, skip = 1, 0
        loop = asyncio.get_running_loop()
        coordination = self._coordination
        leading = False
        try:
            while not self.ended:
                self._wake.clear()
                written_at, self._written_at = self._written_at, None
                started = loop.time()
                leading = coordination is None or await coordination.lead()
                if self.ended:
                    return
                if not leading:
                    assert coordination is not None
                    if self._latest is None:  # joined where another replica polls: its latest result
                        shared = await coordination.latest()
                        if shared is not None:
                            self.offer_shared(*shared)
                elif skip and reason == "interval":
                    skip -= 1  # backing off after upstream trouble
                else:
                    result = await self._run()
                    if self.ended:
                        return
                    self.polls += 1
                    codes = _codes(result)
                    if codes and codes <= TRANSIENT and self._latest is not None:
                        self._observer.record_live_poll(reason, False)
                        backoff = min(backoff * 2, MAX_BACKOFF)
                        skip = backoff - 1
                    else:
                        backoff, skip = 1, 0
                        changed = self._offer(result, reason, written_at)
                        if changed is not None and coordination is not None:
                            await coordination.publish(*changed)
                    if ErrorCode.UNAUTHENTICATED in codes:
                        self.end()
                        return
                # Start to start: a query polls once an interval however long its runs take.
                reason = await self._sleep(max(0.0, self._interval - (loop.time() - started)))
        finally:
            if leading and coordination is not None:
                await coordination.resign()  # another replica with subscribers takes over at once

    def offer_shared(self, digest: str, event: LiveEvent) -> None:
        """A result the replica that polls this live query computed and shared (``bus.py``)."""
        if self.ended or digest == self._digest:
            return
        self._digest = digest
        self._latest = event
        for subscriber in self.subscribers:
            subscriber.deliver(event)
        self._observer.record_live_push(len(self.subscribers), None)
        if ErrorCode.UNAUTHENTICATED in _codes(event.result):
            self.end()

    def _offer(
        self, result: ExecutionResult, reason: str, written_at: float | None
    ) -> tuple[str, LiveEvent] | None:
        """Deliver ``result`` when it changed; its digest and event then, else ``None``."""
        fingerprint, data = encode(result)
        changed = fingerprint != self._digest
        self._observer.record_live_poll(reason, changed)
        if not changed:
            return None
        self._digest = fingerprint
        self._latest = event = LiveEvent(ExecutionResult(data=result.data, errors=result.errors), data)
        for subscriber in self.subscribers:
            subscriber.deliver(event)
        latency = time.perf_counter() - written_at if written_at is not None else None
        self._observer.record_live_push(len(self.subscribers), latency)
        return fingerprint, event

    async def _sleep(self, seconds: float) -> str:
        """Wait ``seconds``, or less when a write wakes the loop; why it woke."""
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            return "interval"
        return "write"


class NullObserver:
    """Reports to no one."""

    def record_live_poll(self, reason: str, changed: bool) -> None:
        return None

    def record_live_push(self, subscribers: int, latency: float | None) -> None:
        return None

    def set_live_counts(self, subscriptions: int, queries: int) -> None:
        return None
