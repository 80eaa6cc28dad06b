"""What the gateway's own mutations changed, reported the moment each succeeds.

Whoever keeps copies derived from upstream data (live queries now, a cache's invalidation later) needs to
hear of a write at once, rather than discover it on its next poll. A mutation resolver reports a
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

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY

__all__ = ["HIERARCHY", "Change", "Write", "WriteListener", "report_write", "write_listener"]

Change = Literal["created", "updated", "deleted"]
#: Kinds from the root down: a parent shows its children's count, and deleting it deletes its children.
HIERARCHY = (CATEGORY, EVENT, EVENT_PROPERTY)


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
        if self.kind in HIERARCHY:
            index = HIERARCHY.index(self.kind)
            if self.change != "updated" and index > 0:
                kinds.add(HIERARCHY[index - 1])
            if self.change == "deleted":
                kinds.update(HIERARCHY[index + 1 :])
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
