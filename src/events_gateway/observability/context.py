"""The request being served, visible to log filters, metrics and extensions from any code it runs.

A context variable rather than a parameter: log records come from the upstream client and the graph layer,
which know nothing of HTTP, and asyncio copies the variable into every task a request starts (loader
batches included), so each record finds its own request.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..upstream import UpstreamCall

__all__ = ["OperationRecord", "RequestRecord", "current_request", "request_scope"]


@dataclass(frozen=True, slots=True)
class OperationRecord:
    """One GraphQL operation of a request: its name (``None`` when anonymous) and its outcome, ``ok`` or
    the ``extensions.code`` of its first error."""

    name: str | None
    outcome: str


@dataclass(slots=True)
class RequestRecord:
    """What one HTTP request did, filled in as it runs and read when it ends.

    Attributes:
        request_id: the request's id (``X-Request-Id``).
        started: ``time.perf_counter()`` when the gateway began serving it.
        plan_requested: the caller asked for the upstream call plan and the settings allow it.
        operations: the GraphQL operations it ran (one, unless a batch).
        calls: the upstream exchanges its operations made.
    """

    request_id: str
    started: float = field(default_factory=time.perf_counter)
    plan_requested: bool = False
    operations: list[OperationRecord] = field(default_factory=list)
    calls: list[UpstreamCall] = field(default_factory=list)


_current: ContextVar[RequestRecord | None] = ContextVar("events_gateway_request", default=None)


def current_request() -> RequestRecord | None:
    """The record of the request this code runs for, or ``None`` outside any request."""
    return _current.get()


@contextlib.contextmanager
def request_scope(record: RequestRecord) -> Iterator[RequestRecord]:
    """Make ``record`` the current request for the code inside the block (and the tasks it starts)."""
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)
