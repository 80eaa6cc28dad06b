"""A circuit breaker per upstream origin, so a dead upstream costs callers nothing but a fast error.

Each origin (scheme, host and port) has its own circuit::

    closed ──(threshold consecutive failures)──► open ──(cool-down elapsed)──► half_open
      ▲                                           ▲                              │
      └────────────(the probe succeeds)───────────┼──────────────────────────────┤
                                                  └──────(the probe fails)───────┘

While open, requests fail at once with :class:`CircuitOpen` and no network call. Half-open lets exactly
one request through as a probe; the others keep failing fast until it settles. What counts as a
failure is the transport's call (connection errors, timeouts it did not cause itself, 5xx, a read's
body that does not decode); a 4xx, 429 included, proves the upstream is alive and counts as a success.
A failure counts only when its attempt began after the upstream's last success (and after the circuit
last opened): calls held by a slow upstream end together, seconds after the successes that followed
them, and would otherwise read as a run of failures with nothing in between.

All state changes happen between awaits on one event loop, so no lock is needed (asyncio only, not
thread-safe).
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ._deadline import Clock

logger = logging.getLogger("events_gateway.upstream.breaker")

#: Consecutive failed attempts that open a circuit.
DEFAULT_FAILURE_THRESHOLD = 5
#: Seconds an open circuit waits before letting one probe through.
DEFAULT_COOLDOWN = 10.0

_DEFAULT_PORTS = {"http": 80, "https": 443}


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


#: Called as ``on_transition(origin, old, new)`` on every state change (for metrics and logs).
TransitionListener = Callable[[str, CircuitState, CircuitState], None]


class CircuitOpen(httpx.TransportError):
    """The upstream's circuit is open: the request was refused without touching the network.

    A subclass of ``httpx.TransportError``, so the client's exception boundary maps it to
    ``UpstreamUnavailable``. ``retry_in`` is the cool-down left, in seconds.
    """

    def __init__(
        self, message: str, *, request: httpx.Request | None = None, origin: str = "", retry_in: float = 0.0
    ) -> None:
        super().__init__(message, request=request)
        self.origin = origin
        self.retry_in = retry_in


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a circuit opens and how long it stays open.

    Attributes:
        failure_threshold: consecutive failed attempts (not requests: each retry counts) that open it.
        cooldown: seconds an open circuit refuses requests before it lets a probe through.
    """

    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    cooldown: float = DEFAULT_COOLDOWN

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if self.cooldown < 0:
            raise ValueError("cooldown must not be negative")


def origin_of(url: httpx.URL) -> str:
    """``scheme://host:port`` with the default port spelled out, the key circuits are kept under."""
    port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
    return f"{url.scheme}://{url.host}:{port}"


@dataclass(slots=True)
class _Circuit:
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    opened_at: float = -math.inf
    probing: bool = False
    last_success: float = -math.inf


class CircuitBreaker:
    """The circuits of every origin a client talks to, created on first use.

    Example::

        breaker = CircuitBreaker(BreakerPolicy(failure_threshold=5, cooldown=10),
                                 on_transition=lambda origin, old, new: gauge.labels(origin).set(new))
        transport = ResilientTransport(inner, breaker=breaker)
        breaker.state("https://api.secoda.co:443")  # CircuitState.CLOSED
    """

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        clock: Clock = time.monotonic,
        on_transition: TransitionListener | None = None,
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._listeners: list[TransitionListener] = [on_transition] if on_transition else []
        self._circuits: dict[str, _Circuit] = {}

    def now(self) -> float:
        """The breaker's clock; an attempt's ``started`` for :meth:`record_failure` is read from it."""
        return self._clock()

    def add_listener(self, listener: TransitionListener) -> None:
        """Also call ``listener(origin, old, new)`` on every state change."""
        self._listeners.append(listener)

    def state(self, origin: str) -> CircuitState:
        """The origin's state now (an open circuit whose cool-down has passed reads as half-open)."""
        circuit = self._circuits.get(origin)
        if circuit is None:
            return CircuitState.CLOSED
        self._refresh(origin, circuit)
        return circuit.state

    def states(self) -> dict[str, CircuitState]:
        """Every known origin's state, for a metrics scrape."""
        return {origin: self.state(origin) for origin in list(self._circuits)}

    def retry_in(self, origin: str) -> float:
        """Seconds until an open circuit lets a probe through; zero when it is not open."""
        circuit = self._circuits.get(origin)
        if circuit is None or self.state(origin) is not CircuitState.OPEN:
            return 0.0
        return max(0.0, circuit.opened_at + self.policy.cooldown - self._clock())

    def admit(self, origin: str) -> bool:
        """Whether a request to ``origin`` may go out now; a half-open circuit admits one probe."""
        circuit = self._circuits.setdefault(origin, _Circuit())
        self._refresh(origin, circuit)
        if circuit.state is CircuitState.CLOSED:
            return True
        if circuit.state is CircuitState.HALF_OPEN and not circuit.probing:
            circuit.probing = True
            return True
        return False

    def record_success(self, origin: str) -> None:
        """An admitted request got an answer that shows the upstream is serving."""
        circuit = self._circuits.setdefault(origin, _Circuit())
        circuit.failures = 0
        circuit.last_success = self._clock()
        if circuit.state is CircuitState.HALF_OPEN:
            circuit.probing = False
            self._move(origin, circuit, CircuitState.CLOSED)

    def record_failure(self, origin: str, *, started: float | None = None) -> None:
        """An admitted request failed in a way that blames the upstream.

        ``started`` (on :meth:`now`'s clock) is when the failed attempt began. A failure whose attempt
        began before the upstream's last success, or before the circuit last opened, is old news and is
        not counted: the upstream has answered since, or the circuit has already acted on it.
        """
        circuit = self._circuits.setdefault(origin, _Circuit())
        if started is not None and (started < circuit.last_success or started < circuit.opened_at):
            return
        if circuit.state is CircuitState.HALF_OPEN:
            self._open(origin, circuit)
        elif circuit.state is CircuitState.CLOSED:
            circuit.failures += 1
            if circuit.failures >= self.policy.failure_threshold:
                self._open(origin, circuit)
        # already open: a straggler admitted before it opened; the cool-down keeps running

    def record_neutral(self, origin: str) -> None:
        """An admitted request ended without evidence either way (cancelled, our own deadline)."""
        circuit = self._circuits.get(origin)
        if circuit is not None and circuit.state is CircuitState.HALF_OPEN:
            circuit.probing = False  # free the probe slot so the next request can probe

    def _open(self, origin: str, circuit: _Circuit) -> None:
        circuit.opened_at = self._clock()
        circuit.failures = 0
        circuit.probing = False
        self._move(origin, circuit, CircuitState.OPEN)

    def _refresh(self, origin: str, circuit: _Circuit) -> None:
        if circuit.state is CircuitState.OPEN and self._clock() - circuit.opened_at >= self.policy.cooldown:
            self._move(origin, circuit, CircuitState.HALF_OPEN)

    def _move(self, origin: str, circuit: _Circuit, new: CircuitState) -> None:
        old = circuit.state
        if old is new:
            return
        circuit.state = new
        log = logger.warning if new is CircuitState.OPEN else logger.info
        log("upstream circuit %s: %s -> %s", origin, old, new)
        for listener in self._listeners:
            try:
                listener(origin, old, new)
            except Exception:  # a metrics hook must never break a request
                logger.exception("circuit transition listener failed")
