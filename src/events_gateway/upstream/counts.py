"""List sizes remembered across requests, per caller key: how many results a list had last time.

A request that knows a list's size before asking can plan every page of it at once instead of waiting
for page 1's count. Sizes are a caller's data (how many events a workspace has), so they are kept per
key and never served to another: each key's sizes sit under an HMAC-SHA256 of the key with a secret
drawn when the process starts, so the memo holds no key, and its entries are useless outside the
process. It is bounded twice: in keys (the least recently used key's sizes go first) and in lists per
key. A remembered size only ever plans pages; the pages fetched always have the last word.

Example::

    counts = client.list_counts.for_key(api_key)
    expected = counts.get(("event", "unfiltered"))  # None the first time
    counts.learn(("event", "unfiltered"), 1_000)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

#: Keys whose sizes are kept at once, and lists per key: enough for every caller of a busy gateway, and
#: a few hundred bytes per list at most.
DEFAULT_MAX_KEYS: Final = 4_096
DEFAULT_MAX_LISTS_PER_KEY: Final = 256


class ListCounts:
    """The process-wide memo: list sizes per key digest, bounded in keys and in lists per key."""

    __slots__ = ("_by_key", "_max_keys", "_max_lists", "_secret")

    def __init__(
        self, *, max_keys: int = DEFAULT_MAX_KEYS, max_lists_per_key: int = DEFAULT_MAX_LISTS_PER_KEY
    ) -> None:
        self._secret = secrets.token_bytes(32)
        self._max_keys = max_keys
        self._max_lists = max_lists_per_key
        self._by_key: OrderedDict[bytes, OrderedDict[Hashable, int]] = OrderedDict()

    def __repr__(self) -> str:
        return f"ListCounts(keys={len(self._by_key)})"

    def for_key(self, api_key: str) -> KeyCounts:
        """The sizes one key may read and teach (cheap: one HMAC)."""
        digest = hmac.new(self._secret, api_key.encode(), hashlib.sha256).digest()
        return KeyCounts(self, digest)

    def _get(self, digest: bytes, list_id: Hashable) -> int | None:
        lists = self._by_key.get(digest)
        if lists is None:
            return None
        self._by_key.move_to_end(digest)
        return lists.get(list_id)

    def _learn(self, digest: bytes, list_id: Hashable, count: int) -> None:
        lists = self._by_key.get(digest)
        if lists is None:
            lists = self._by_key[digest] = OrderedDict()
            while len(self._by_key) > self._max_keys:
                self._by_key.popitem(last=False)
        else:
            self._by_key.move_to_end(digest)
        lists[list_id] = count
        lists.move_to_end(list_id)
        while len(lists) > self._max_lists:
            lists.popitem(last=False)


class KeyCounts:
    """One key's view of the memo: it reads and teaches that key's sizes alone.

    ``list_id`` is any hashable that names a list the same way on every request (the graph layer
    uses its ``ListQuery``).
    """

    __slots__ = ("_digest", "_memo")

    def __init__(self, memo: ListCounts, digest: bytes) -> None:
        self._memo = memo
        self._digest = digest

    def __repr__(self) -> str:
        return "KeyCounts(<key digest>)"

    def get(self, list_id: Hashable) -> int | None:
        """The size the list had when this key last read it, if remembered."""
        return self._memo._get(self._digest, list_id)

    def learn(self, list_id: Hashable, count: int) -> None:
        """Remember the list's size as just read."""
        if count >= 0:
            self._memo._learn(self._digest, list_id, count)
