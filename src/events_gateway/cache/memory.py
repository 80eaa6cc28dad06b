"""The in-process tier: entries by (key hash, request), bounded in bytes, least recently used dropped first.

Each entry carries the generations it was computed under; the cache compares them with the current ones
on every read, so an invalidated entry is never served, merely left to be replaced or evicted. Entries
are grouped by key hash so that a key the upstream refuses loses all of them at once.

asyncio only: every method runs between awaits on one event loop, so no lock is needed.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["ENTRY_OVERHEAD", "Entry", "MemoryTier"]

#: Bytes counted per entry beyond the characters of its value, request and counter names: the Python
#: objects that hold them (entry, tuples, strings' headers, dict and index slots; about 500 to 600 bytes
#: under ``tracemalloc`` on CPython 3.11).
ENTRY_OVERHEAD = 600
#: An entry larger than this share of the budget is not kept: it would push out many others.
LARGEST_SHARE = 8
_HEADER = struct.Struct("!ddd")


@dataclass(slots=True)
class Entry:
    """One cached answer.

    Attributes:
        value: the answer's bytes, as the fetch returned them.
        stored_at, fresh_until, stale_until: wall-clock seconds (shared by replicas through Redis).
        counters: the generation counters it depends on (sorted), and ``generations`` their values when
            it was computed; it is valid while the current values are the same.
        refresh_failed: the last refresh of this entry failed (it is then served as stale-if-error).
    """

    value: bytes
    stored_at: float
    fresh_until: float
    stale_until: float
    counters: tuple[str, ...]
    generations: tuple[int, ...]
    refresh_failed: bool = False

    def size(self, request: str) -> int:
        return len(self.value) + len(request) + sum(map(len, self.counters)) + ENTRY_OVERHEAD

    def encode(self) -> bytes:
        """The entry's bytes in Redis (its counters and generations are in its key, not here)."""
        return _HEADER.pack(self.stored_at, self.fresh_until, self.stale_until) + self.value

    @classmethod
    def decode(cls, raw: bytes, counters: tuple[str, ...], generations: tuple[int, ...]) -> Entry | None:
        """The entry ``encode`` wrote, or ``None`` for bytes that are not one."""
        if len(raw) < _HEADER.size:
            return None
        stored_at, fresh_until, stale_until = _HEADER.unpack_from(raw)
        return cls(raw[_HEADER.size :], stored_at, fresh_until, stale_until, counters, generations)


class MemoryTier:
    """Entries of every key hash in one byte budget.

    Example::

        tier = MemoryTier(64 * 1024 * 1024)
        tier.put(key_hash, "GET /event/events/", entry)
        tier.get(key_hash, "GET /event/events/", now=time.time())   # the entry, or None past stale_until
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str], tuple[Entry, int]] = OrderedDict()
        self._by_key_hash: dict[str, set[str]] = {}
        self._bytes = 0
        #: Entries dropped to stay within the budget, since the tier was made (for metrics and tests).
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Bytes counted for every entry held."""
        return self._bytes

    def get(self, key_hash: str, request: str, *, now: float) -> Entry | None:
        """The entry, marked most recently used; ``None`` when absent or past ``stale_until``."""
        slot = (key_hash, request)
        held = self._entries.get(slot)
        if held is None:
            return None
        if now >= held[0].stale_until:
            self._remove(slot)
            return None
        self._entries.move_to_end(slot)
        return held[0]

    def put(self, key_hash: str, request: str, entry: Entry) -> bool:
        """Keep ``entry`` (replacing any for the same request); ``False`` when it is too large to keep."""
        size = entry.size(request)
        slot = (key_hash, request)
        if slot in self._entries:
            self._remove(slot)
        if size > self.max_bytes // LARGEST_SHARE:
            return False
        self._entries[slot] = (entry, size)
        self._by_key_hash.setdefault(key_hash, set()).add(request)
        self._bytes += size
        while self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._remove(oldest)
            self.evictions += 1
        return True

    def discard(self, key_hash: str, request: str) -> None:
        if (key_hash, request) in self._entries:
            self._remove((key_hash, request))

    def drop_key_hash(self, key_hash: str) -> int:
        """Drop every entry of one key hash; how many there were."""
        requests = self._by_key_hash.get(key_hash, set())
        count = len(requests)
        for request in list(requests):
            self._remove((key_hash, request))
        return count

    def clear(self) -> None:
        self._entries.clear()
        self._by_key_hash.clear()
        self._bytes = 0

    def _remove(self, slot: tuple[str, str]) -> None:
        _, size = self._entries.pop(slot)
        self._bytes -= size
        key_hash, request = slot
        requests = self._by_key_hash[key_hash]
        requests.discard(request)
        if not requests:
            del self._by_key_hash[key_hash]
