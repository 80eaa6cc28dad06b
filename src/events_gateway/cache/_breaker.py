"""One circuit for Redis: after a run of errors, stop sending commands; after a cool-down, let one probe by.

The upstream client has a breaker of its own, per origin and in httpx's terms; this one guards a single
Redis and knows nothing of HTTP, and the cache package may not import ``upstream`` (it sits beneath it).

asyncio only: state changes happen between awaits on one event loop.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

logger = logging.getLogger("events_gateway.cache")


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    """Closed → open after ``threshold`` consecutive failures → half-open after ``cooldown`` seconds →
    closed when the one probe succeeds, open again when it fails."""

    def __init__(
        self, threshold: int, cooldown: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self.cooldown:
            self._state = State.HALF_OPEN
            self._probing = False
        return self._state

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    def admit(self) -> bool:
        """Whether a command may be sent now; half-open admits one probe at a time."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        if self._state is not State.CLOSED:
            self._probing = False
            self._state = State.CLOSED
            logger.info("redis is answering again; the cache uses it")

    def failure(self) -> None:
        if self._state is State.CLOSED:
            self._failures += 1
            if self._failures < self.threshold:
                return
        elif self._state is State.OPEN:
            return  # a straggler sent before the circuit opened
        if self._state is State.CLOSED:
            logger.warning(
                "redis failed %d times in a row; the cache works without it for now", self.threshold
            )
        self._state = State.OPEN
        self._opened_at = self._clock()
        self._failures = 0
        self._probing = False

    def neutral(self) -> None:
        """An admitted command ended without evidence either way (cancelled): free the probe slot."""
        self._probing = False
