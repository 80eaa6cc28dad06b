"""Whose live query: a keyed hash of the caller's API key, so the registry never holds keys as names.

The hash only has to tell keys apart inside one process, so an HMAC with a secret drawn when the process
starts is enough, and nothing that leaks (a log line, a metrics label, a dump of the registry) can be
checked against a guessed key. Across replicas the registry takes the bus's hasher instead (the cache's
``KeyHasher``, one secret for the deployment), so that every replica names a key alike.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

__all__ = ["NO_KEY", "KeyHashFn", "process_key_hasher"]

#: The name of "no key at all" (such a query is answered ``UNAUTHENTICATED`` once, then ended).
NO_KEY = "-"
#: Hex characters kept: 128 bits, far from any collision.
_HEX = 32

KeyHashFn = Callable[[str | None], str]


def process_key_hasher(secret: bytes | None = None) -> KeyHashFn:
    """A function from an API key (or ``None``) to its HMAC-SHA256, hex, under ``secret`` (random when
    not given).

    Example::

        key_hash = process_key_hasher()
        key_hash("my-key") == key_hash("my-key") != key_hash("other")   # True
    """
    key = secret if secret is not None else secrets.token_bytes(32)

    def key_hash(api_key: str | None) -> str:
        if not api_key:
            return NO_KEY
        return hmac.new(key, api_key.encode(), hashlib.sha256).hexdigest()[:_HEX]

    return key_hash
