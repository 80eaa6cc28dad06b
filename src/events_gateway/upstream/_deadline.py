"""A per-request time budget, carried in a context variable so no call signature has to pass it along.

The server (or a schema extension) opens one scope per GraphQL request; every upstream call made while
resolving it, in any task spawned from it (loaders included, since tasks copy the context), sees the
same deadline. The resilient transport reads it to clip each attempt's timeout and to decide whether a
retry still fits.

Example::

    with deadline_scope(15.0):  # or ``async with``
        result = await schema.execute(query, context_value=context)

A nested scope can only shorten the budget, never extend it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType

import httpx

#: The monotonic clock deadlines are measured on; tests pass a fake one.
Clock = Callable[[], float]

_current: ContextVar[Deadline | None] = ContextVar("events_gateway_deadline", default=None)


class DeadlineExceeded(httpx.TimeoutException):
    """The request's time budget ran out before the upstream answered.

    A subclass of ``httpx.TimeoutException``, so the client's one exception boundary maps it to
    ``UpstreamTimeout`` like any other timeout.
    """


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point in time on ``clock`` after which no upstream call may still be running."""

    expires_at: float
    clock: Clock = time.monotonic

    def remaining(self) -> float:
        """Seconds left; zero or negative once the deadline has passed."""
        return self.expires_at - self.clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def current_deadline() -> Deadline | None:
    """The deadline of the request being served, or ``None`` outside any scope."""
    return _current.get()


class deadline_scope:  # lower case: used like ``contextlib``'s lower-case managers
    """Set the current request's deadline to ``seconds`` from now for the ``with`` block.

    ``seconds=None`` opens no new budget (the block keeps whatever deadline already applies), so a
    "no deadline" setting needs no special case at the call site. Works with ``with`` and ``async with``.
    """

    def __init__(self, seconds: float | None, *, clock: Clock = time.monotonic) -> None:
        if seconds is not None and seconds < 0:
            raise ValueError("a deadline needs a non-negative number of seconds")
        self._seconds = seconds
        self._clock = clock
        self._token: Token[Deadline | None] | None = None

    def __enter__(self) -> Deadline | None:
        outer = _current.get()
        if self._seconds is None:
            return outer
        if outer is not None and outer.remaining() <= self._seconds:
            return outer  # the enclosing budget is already the tighter one
        deadline = Deadline(self._clock() + self._seconds, self._clock)
        self._token = _current.set(deadline)
        return deadline

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None

    async def __aenter__(self) -> Deadline | None:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
