"""Retries, a per-request deadline and a circuit breaker, as one httpx transport around the real one.

Wrapping the transport (not the client) keeps the REST client free of this plumbing: the client sees
one exchange per call, and its one exception boundary maps what comes out of here like any other
httpx failure (:class:`DeadlineExceeded` is an ``httpx.TimeoutException`` → ``UpstreamTimeout``;
:class:`CircuitOpen` is an ``httpx.TransportError`` → ``UpstreamUnavailable``).

Example::

    transport = ResilientTransport(default_transport(max_connections=100), RetryPolicy(), CircuitBreaker())
    client = httpx.AsyncClient(transport=transport)
    with deadline_scope(20.0):
        response = await client.get(url)

What is retried, and why (see ``docs/resilience.md``):

- only ``GET``, ``HEAD`` and ``OPTIONS``: a write that failed mid-way may still have been applied, so
  ``POST``, ``PUT``, ``PATCH`` and ``DELETE`` get exactly one attempt, whatever happens;
- on ``429``, ``500``, ``502``, ``503``, ``504`` answers, on ``httpx.TimeoutException``,
  ``httpx.NetworkError`` (connect, read, write, close) and ``httpx.RemoteProtocolError`` (the upstream
  hung up or broke HTTP), and, when the transport is given a ``decode`` function, on a 2xx answer whose
  body it cannot decode (a body cut short in transit). Misuse on our side (``LocalProtocolError``,
  ``UnsupportedProtocol``) is not retried;
- after a full-jitter exponential backoff, or exactly the ``Retry-After`` the upstream asked for when
  that is at most ``max_retry_after`` (a longer one is handed back to the caller as the 429/503 itself,
  so the client can report ``retryAfter`` instead of hammering early);
- only while the request's deadline leaves room for the whole wait, and the circuit is not open.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ._breaker import (
    DEFAULT_COOLDOWN,
    DEFAULT_FAILURE_THRESHOLD,
    BreakerPolicy,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    TransitionListener,
    origin_of,
)
from ._deadline import Deadline, DeadlineExceeded, current_deadline, deadline_scope

__all__ = [
    "DECODED_BODY",
    "DECODER",
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_COOLDOWN",
    "DEFAULT_FAILURE_THRESHOLD",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_REQUEST_DEADLINE",
    "RETRYABLE_EXCEPTIONS",
    "RETRY_METHODS",
    "RETRY_STATUSES",
    "BreakerPolicy",
    "CircuitBreaker",
    "CircuitOpen",
    "CircuitState",
    "Deadline",
    "DeadlineExceeded",
    "Decoder",
    "ResilientTransport",
    "RetryListener",
    "RetryPolicy",
    "TransitionListener",
    "current_deadline",
    "deadline_scope",
    "origin_of",
    "parse_retry_after",
]

logger = logging.getLogger("events_gateway.upstream.resilience")

#: Attempts per idempotent request, the first one included.
DEFAULT_MAX_ATTEMPTS = 3
#: Seconds; the ceiling of the first retry's jittered wait, doubled per retry.
DEFAULT_BACKOFF_BASE = 0.1
#: Seconds; no computed backoff exceeds this.
DEFAULT_BACKOFF_MAX = 2.0
#: Seconds; a longer ``Retry-After`` is not waited for (the answer goes back to the caller).
DEFAULT_MAX_RETRY_AFTER = 5.0
#: Seconds a whole GraphQL request may spend on upstream calls; for the server's ``deadline_scope``.
DEFAULT_REQUEST_DEADLINE = 20.0

RETRY_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
RETRYABLE_EXCEPTIONS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
#: Transport failures that blame the upstream (and so count against its circuit).
_UPSTREAM_FAULTS: tuple[type[httpx.TransportError], ...] = (*RETRYABLE_EXCEPTIONS, httpx.ProxyError)

MSG_DEADLINE = "The request's deadline passed before the upstream answered."
MSG_CIRCUIT_OPEN = "The upstream is failing; calls to it are paused for a moment."

#: The ``Response.extensions`` key under which a decoded body is handed up, so it is decoded only once.
DECODED_BODY = "events_gateway.decoded_body"
#: ``request.extensions`` key of a request's own decoder, used in place of the transport's (a list page
#: projected to the keys its reader needs: ``projection.py``).
DECODER = "events_gateway.decoder"
#: The reason a retry gives (logs, ``RetryListener``) for a body that did not decode.
REASON_UNREADABLE = "unreadable body"

Sleep = Callable[[float], Awaitable[None]]
#: Decodes a 2xx body of an idempotent request (``orjson.loads``, say); raising marks the attempt failed.
Decoder = Callable[[bytes], Any]
#: Called as ``listener(origin, reason)`` before each retry (a status or an error class name).
RetryListener = Callable[[str, str], None]
RandomSource = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently idempotent requests are retried.

    Attributes:
        max_attempts: attempts per idempotent request, the first included (1 disables retries).
        backoff_base: seconds; retry *n* waits a uniform random time in
            ``[0, min(backoff_max, backoff_base * 2 ** (n - 1))]`` ("full jitter").
        backoff_max: seconds; the cap of that window.
        max_retry_after: seconds; the longest ``Retry-After`` honoured. Longer: no retry.
        retry_methods: methods safe to send twice.
        retry_statuses: answers worth asking again.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    retry_methods: frozenset[str] = RETRY_METHODS
    retry_statuses: frozenset[int] = RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.max_retry_after < 0:
            raise ValueError("backoff_base, backoff_max and max_retry_after must not be negative")
        unsafe = self.retry_methods & {"POST", "PUT", "PATCH", "DELETE"}
        if unsafe:
            raise ValueError(f"retrying {sorted(unsafe)} could apply a write twice")

    def backoff(self, retry: int, draw: float) -> float:
        """The wait before retry number ``retry`` (1 for the first), given ``draw`` in ``[0, 1)``."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (retry - 1))
        return draw * ceiling


def parse_retry_after(
    value: str | None,
    *,
    date: str | None = None,
    now: float | None = None,
    negative_as_zero: bool = False,
) -> float | None:
    """``Retry-After`` as seconds to wait, or ``None`` when absent or unreadable.

    Accepts delay-seconds or an HTTP date. A date is measured against the response's own ``Date`` header
    when it has one (so a skewed local clock does not matter), else against ``now`` (Unix seconds). A date
    already past is ``0.0``; a negative delay is unreadable, or ``0.0`` with ``negative_as_zero``.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        when = _http_date(value)
        if when is None:
            return None
        reference = _http_date(date) if date is not None else None
        if reference is None:
            reference = time.time() if now is None else now
        seconds = max(0.0, when - reference)
    if not math.isfinite(seconds):
        return None
    if seconds < 0:
        return 0.0 if negative_as_zero else None
    return seconds


def _http_date(value: str) -> float | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # an HTTP date is always GMT; no zone means it was not one
        return None
    return parsed.timestamp()


def _clip_timeouts(timeouts: Mapping[str, float | None] | None, remaining: float) -> dict[str, float]:
    """Each of httpx's per-phase timeouts, cut to what the deadline leaves."""
    phases = ("connect", "read", "write", "pool")
    given = timeouts or {}
    clipped: dict[str, float] = {}
    for phase in phases:
        value = given.get(phase)
        clipped[phase] = remaining if value is None else min(value, remaining)
    return clipped


class ResilientTransport(httpx.AsyncBaseTransport):
    """An httpx transport that retries, respects the request deadline and breaks the circuit.

    With ``decode``, a 2xx answer to an idempotent request is read and decoded inside the attempt: a body
    that does not decode is a failed attempt (retried, and counted against the circuit), and a decoded
    one is handed up in ``response.extensions[DECODED_BODY]`` so the caller need not decode it again.
    A request may bring its own decoder in ``request.extensions[DECODER]``.
    ``sleep``, ``random`` and ``wall_clock`` are injectable so tests run without waiting or chance;
    the breaker and :func:`deadline_scope` take their own ``clock``.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        *,
        decode: Decoder | None = None,
        sleep: Sleep = asyncio.sleep,
        random: RandomSource = _random.random,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.breaker = breaker
        self._decode = decode
        self._sleep = sleep
        self._random = random
        self._wall_clock = wall_clock
        self._retry_listeners: list[RetryListener] = []

    def add_retry_listener(self, listener: RetryListener) -> None:
        """Also call ``listener(origin, reason)`` before every retry."""
        self._retry_listeners.append(listener)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        origin = origin_of(request.url)
        idempotent = request.method.upper() in policy.retry_methods
        attempts = policy.max_attempts if idempotent else 1
        decode = None
        if idempotent and request.method.upper() != "HEAD":
            decode = request.extensions.get(DECODER, self._decode)
        deadline = current_deadline()
        last_error: BaseException | None = None
        attempt = 0
        try:
            while True:
                attempt += 1
                if deadline is not None and deadline.expired:
                    raise DeadlineExceeded(MSG_DEADLINE, request=request) from last_error
                if self.breaker is not None and not self.breaker.admit(origin):
                    raise CircuitOpen(
                        MSG_CIRCUIT_OPEN,
                        origin=origin,
                        retry_in=self.breaker.retry_in(origin),
                        request=request,
                    ) from last_error
                started = self.breaker.now() if self.breaker is not None else 0.0
                try:
                    response, readable = await self._attempt(request, deadline, decode)
                except httpx.TransportError as exc:
                    if isinstance(exc, DeadlineExceeded) or (
                        isinstance(exc, httpx.TimeoutException) and deadline is not None and deadline.expired
                    ):
                        self._record(origin, None)  # our budget ran out; that says nothing of the upstream
                        if isinstance(exc, DeadlineExceeded):
                            raise
                        raise DeadlineExceeded(MSG_DEADLINE, request=request) from exc
                    self._record(origin, False if isinstance(exc, _UPSTREAM_FAULTS) else None, started)
                    if attempt >= attempts or not isinstance(exc, RETRYABLE_EXCEPTIONS):
                        raise
                    delay = policy.backoff(attempt, self._random())
                    if not self._may_wait(delay, deadline, origin):
                        raise
                    self._log_retry(request, type(exc).__name__, attempt, attempts, delay)
                    self._retried(origin, type(exc).__name__)
                    last_error = exc
                except BaseException:  # cancelled, or a bug in the inner transport
                    self._record(origin, None)
                    raise
                else:
                    self._record(origin, readable and response.status_code < 500, started)
                    if attempt >= attempts or (
                        readable and response.status_code not in policy.retry_statuses
                    ):
                        return response
                    wait = self._delay_for(response, attempt)
                    if wait is None or not self._may_wait(wait, deadline, origin):
                        return response  # the caller gets the real answer (e.g. 429 with its Retry-After)
                    await response.aclose()
                    delay = wait
                    reason = str(response.status_code) if readable else REASON_UNREADABLE
                    self._log_retry(request, reason, attempt, attempts, delay)
                    self._retried(origin, reason)
                    last_error = None
                await self._sleep(delay)
        finally:
            # Every exception raised in this loop has this frame in its traceback, so keeping one in a
            # local would hold the frame, its response and the whole chain in a cycle until the cycle
            # collector came by (minutes, under load). Let go of it before the frame ends.
            last_error = None

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def _attempt(
        self, request: httpx.Request, deadline: Deadline | None, decode: Decoder | None
    ) -> tuple[httpx.Response, bool]:
        """One exchange, and whether its body was readable (always, when nothing is to be decoded)."""
        if deadline is None:
            return await self._exchange(request, decode)
        remaining = deadline.remaining()
        request.extensions = {
            **request.extensions,
            "timeout": _clip_timeouts(request.extensions.get("timeout"), remaining),
        }
        # The clipped timeouts bound each socket operation; this bounds the attempt as a whole (a
        # server that trickles its headers byte by byte would otherwise outlive the deadline).
        guard = asyncio.timeout(remaining)
        try:
            async with guard:
                return await self._exchange(request, decode)
        except TimeoutError as exc:
            if guard.expired():
                raise DeadlineExceeded(MSG_DEADLINE, request=request) from exc
            raise

    async def _exchange(self, request: httpx.Request, decode: Decoder | None) -> tuple[httpx.Response, bool]:
        response = await self.inner.handle_async_request(request)
        if decode is None or not response.is_success or response.status_code == 204:
            return response, True  # only a body that should be there is judged
        try:
            await response.aread()  # inside the attempt: a body cut off mid-read is this attempt's failure
        except BaseException:
            await response.aclose()
            raise
        try:
            decoded = decode(response.content)
        except Exception:  # truncated, or not the format at all: a transport failure more than a bug
            return response, False
        response.extensions[DECODED_BODY] = decoded
        return response, True

    def _delay_for(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before asking again, or ``None`` when the upstream asked for too long."""
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), date=response.headers.get("Date"), now=self._wall_clock()
        )
        if retry_after is None:
            return self.policy.backoff(attempt, self._random())
        if retry_after > self.policy.max_retry_after:
            return None
        return retry_after

    def _may_wait(self, delay: float, deadline: Deadline | None, origin: str) -> bool:
        """A retry starts only if its wait ends before the deadline and the circuit still admits."""
        if deadline is not None and deadline.remaining() <= delay:
            return False
        return self.breaker is None or self.breaker.state(origin) is not CircuitState.OPEN

    def _record(self, origin: str, ok: bool | None, started: float | None = None) -> None:
        if self.breaker is None:
            return
        if ok is None:
            self.breaker.record_neutral(origin)
        elif ok:
            self.breaker.record_success(origin)
        else:
            self.breaker.record_failure(origin, started=started)

    def _retried(self, origin: str, reason: str) -> None:
        for listener in self._retry_listeners:
            try:
                listener(origin, reason)
            except Exception:  # a metrics hook must never break a request
                logger.exception("retry listener failed")

    @staticmethod
    def _log_retry(request: httpx.Request, reason: str, attempt: int, attempts: int, delay: float) -> None:
        # The path only: query strings may carry filter values, and headers carry the caller's key.
        logger.info(
            "upstream %s %s failed (%s); attempt %d of %d in %.3fs",
            request.method,
            request.url.copy_with(query=None, fragment=None),
            reason,
            attempt + 1,
            attempts,
            delay,
        )
