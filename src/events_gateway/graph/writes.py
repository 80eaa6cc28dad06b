"""What the gateway's own mutations changed, reported the moment each succeeds.

Whoever keeps copies derived from upstream data (live queries) needs to hear of a write at once, rather
than discover it on its next poll; the cache is told separately, through the caller's session, by the
mutation itself (``graph/mutations.py``). A mutation resolver reports a
:class:`Write` with :func:`report_write`; the server decides who listens, for the code it runs, with
:func:`write_listener`. A context variable carries the listener, as it carries the request's deadline,
so resolvers need no extra parameter, and a mutation run with nobody listening reports to no one.

Example::

    with write_listener(lambda write: print(write)):
        await schema.execute('mutation { deleteEvent(id: "e1") { deleted } }', context_value=context)
    # Write(change='deleted', kind='event', id='e1', parent_id=None)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from ..upstream import HIERARCHY

__all__ = ["Change", "Write", "WriteListener", "report_write", "write_listener"]

Change = Literal["created", "updated", "deleted"]


@dataclass(frozen=True, slots=True)
class Write:
    """One object the upstream confirmed writing; ``parent_id`` is ``None`` when it is not known."""

    change: Change
    kind: str
    id: str
    parent_id: str | None = None

    def touches(self) -> frozenset[str]:
        """The kinds whose answers this write may change: its own; its parent's when the parent's count of
        children changes (a create or delete); every kind below it when a delete removes its children."""
        kinds = {self.kind}
        if self.kind in HIERARCHY.kinds:  # kinds from the root down, as the cache's invalidation reads them
            parent = HIERARCHY.parent_of(self.kind)
            if self.change != "updated" and parent is not None:
                kinds.add(parent)
            if self.change == "deleted":
                kinds.update(HIERARCHY.descendants(self.kind))
        return frozenset(kinds)


WriteListener = Callable[[Write], None]

_listener: ContextVar[WriteListener | None] = ContextVar("events_gateway_write_listener", default=None)


def report_write(write: Write) -> None:
    """Tell the current listener, if any, that ``write`` happened (call it once the upstream confirmed)."""
    listener = _listener.get()
    if listener is not None:
        listener(write)


@contextlib.contextmanager
def write_listener(listener: WriteListener | None) -> Iterator[None]:
    """Make ``listener`` hear every write reported by the code inside the block (and the tasks it starts)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
