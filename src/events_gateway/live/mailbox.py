"""A one-slot mailbox: a slow reader gets the latest value, never a queue of the values it missed.

A live query pushes each changed result to every subscriber; a subscriber whose socket drains slowly
must not make the process hold every result it has not sent yet. Each result is complete, so only the
newest one matters: :meth:`Mailbox.put` replaces whatever is waiting.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

__all__ = ["Mailbox"]

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Holds at most one value; ``get`` waits for one, ``close`` ends the reading once it is empty.

    Example::

        box = Mailbox[int]()
        box.put(1)
        box.put(2)         # replaces 1, unread
        await box.get()    # 2
        box.close()
        await box.get()    # raises StopAsyncIteration
    """

    __slots__ = ("_closed", "_filled", "_has_value", "_value")

    def __init__(self) -> None:
        self._value: T | None = None
        self._has_value = False
        self._closed = False
        self._filled = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, value: T) -> None:
        """Leave ``value`` for the reader, replacing any value it has not read yet (ignored once closed)."""
        if self._closed:
            return
        self._value = value
        self._has_value = True
        self._filled.set()

    def close(self) -> None:
        """No more values: the reader gets the one waiting, if any, then ``StopAsyncIteration``."""
        self._closed = True
        self._filled.set()

    async def get(self) -> T:
        """The waiting value (or the next one put); ``StopAsyncIteration`` once closed and empty."""
        while not self._has_value:
            if self._closed:
                raise StopAsyncIteration
            await self._filled.wait()
            self._filled.clear()
        value = self._value
        self._value = None
        self._has_value = False
        return value  # type: ignore[return-value]  # _has_value says it was put, so it is a T
