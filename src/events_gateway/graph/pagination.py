"""Relay-style connections over offsets: opaque cursors, ``first``/``after`` checks, and slicing.

A cursor is the base64 of ``offset:<n>``, or ``offset:<n>:<tag>`` for a list with a filter or an order
(``ListSpec.cursor_tag``, a fingerprint of both): clients must treat it as opaque, and the gateway can map
it onto the upstream's page numbers without remembering anything between requests. A cursor is valid only
for a list with the same filter and order: an offset into one order means nothing in another, so a cursor
from another one is refused rather than silently mixing two lists.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

import strawberry

from ..settings import Settings
from .errors import InvalidInput

T = TypeVar("T")
R = TypeVar("R")

_PREFIX = "offset:"


def encode_cursor(offset: int, tag: str = "") -> str:
    text = f"{_PREFIX}{offset}:{tag}" if tag else f"{_PREFIX}{offset}"
    return base64.b64encode(text.encode()).decode("ascii")


def decode_cursor(cursor: str, tag: str = "") -> int:
    """The offset a cursor names; ``InvalidInput`` on ``after`` when it is not one of ours, or belongs to a
    list with another filter or order than the one ``tag`` fingerprints."""
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidInput("after", "Not a cursor this API returned.") from None
    offset, _, own_tag = text.removeprefix(_PREFIX).partition(":")
    if not text.startswith(_PREFIX) or not offset.isdigit():
        raise InvalidInput("after", "Not a cursor this API returned.")
    if own_tag != tag:
        raise InvalidInput(
            "after", "This cursor belongs to a list with another filter or order; start again without it."
        )
    return int(offset)


@dataclass(frozen=True, slots=True)
class Window:
    """The slice ``[offset, offset + first)`` a connection field asks for, of the list ``tag``
    fingerprints (its cursors carry it)."""

    offset: int
    first: int
    tag: str = ""

    @property
    def end(self) -> int:
        return self.offset + self.first

    @classmethod
    def from_args(cls, first: int | None, after: str | None, settings: Settings, *, tag: str = "") -> Window:
        if first is None:
            first = settings.default_first
        elif first < 0:
            raise InvalidInput("first", "Must not be negative.")
        elif first > settings.max_first:
            raise InvalidInput("first", f"Must be at most {settings.max_first}.")
        offset = 0 if after is None else decode_cursor(after, tag) + 1
        return cls(offset=offset, first=first, tag=tag)


@strawberry.type(description="Where a connection's slice sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One item of a connection, with the cursor to resume after it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A slice of a list: `first` items after the cursor `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Items in the whole list, not only this slice.")

    def __getattr__(self, name: str) -> Any:
        """``edges`` and ``page_info`` of a connection from ``make_connection``, built when first asked for
        (most queries ask for ``nodes`` alone, and an edge with its cursor per item is not free)."""
        state = self.__dict__
        offset = state.get(_OFFSET)
        if offset is None or name not in ("edges", "page_info"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        items: list[Any] = state["nodes"]
        tag: str = state[_TAG]
        if name == "edges":
            value: Any = [
                Edge(cursor=encode_cursor(offset + index, tag), node=item) for index, item in enumerate(items)
            ]
        else:
            value = PageInfo(
                has_next_page=offset + len(items) < state["total_count"],
                has_previous_page=offset > 0,
                start_cursor=encode_cursor(offset, tag) if items else None,
                end_cursor=encode_cursor(offset + len(items) - 1, tag) if items else None,
            )
        state[name] = value
        return value


_OFFSET: Final = "_offset"
_TAG: Final = "_tag"


def make_connection(items: Sequence[T], *, offset: int, total: int, tag: str = "") -> Connection[T]:
    """A connection of ``items``, which start at ``offset`` in a list of ``total`` items; its cursors carry
    ``tag`` (the list's filter and order)."""
    connection: Connection[T] = Connection.__new__(Connection)
    connection.__dict__.update({"nodes": list(items), "total_count": total, _OFFSET: offset, _TAG: tag})
    return connection


def slice_connection(items: Sequence[R], window: Window, build: Callable[[R], T]) -> Connection[T]:
    """A connection over a list held whole in memory (children lists are loaded whole)."""
    chosen = items[window.offset : window.end]
    return make_connection(
        [build(item) for item in chosen], offset=window.offset, total=len(items), tag=window.tag
    )
