"""Whose entry and which request: a keyed hash of the caller's API key, and the request in one canonical form.

Why a keyed hash (HMAC-SHA256 with a per-deployment secret) and not the key or its plain hash: entries
are stored under it, in memory and in Redis, and whoever reads Redis must learn nothing from it. A plain
SHA-256 of a key could be checked against a guessed key; without the secret the HMAC cannot. The API
key itself is never stored, logged or kept: it is hashed and dropped.

Where the secret comes from (``EVENTS_GATEWAY_CACHE_SECRET``, else generated):

- set: every process and replica hashes alike, and the secret lives only in their configuration;
- unset, memory only: a random secret per process (nothing is shared, so nothing needs to agree);
- unset, with Redis: one random secret is stored in Redis the first time (``SET NX``) and read by every
  other process, so all replicas share entries without configuration. The trade-off: someone who can
  read Redis then has the secret too, and could test a guessed API key against the hashes (a Secoda key
  is 122 random bits, so guessing stays hopeless, but the secret no longer adds a barrier). Set the
  variable to keep the secret out of Redis. The stored secret carries a TTL that every process renews;
  if Redis loses it, the first process to notice stores its own again (generations.py checks on every
  counter update).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["KeyHash", "KeyHasher", "canonical_request"]

#: Hex characters of a key hash kept: 128 bits, far from any collision, half the bytes in every key.
KEY_HASH_HEX = 32
_SECRET_ID_HEX = 16


@dataclass(frozen=True, slots=True)
class KeyHash:
    """A caller's API key as the cache knows it, and the secret it was hashed with.

    ``secret_id`` lets the cache refuse a hash made with a secret it no longer uses (the shared secret
    can change when Redis loses it): such a request is simply not cached.
    """

    digest: str
    secret_id: str

    def __str__(self) -> str:
        return self.digest

    def __repr__(self) -> str:
        return f"KeyHash({self.digest[:8]}…)"


class KeyHasher:
    """HMAC-SHA256 of API keys with one secret.

    Example::

        hasher = KeyHasher("per-deployment secret")
        key_hash = hasher.hash(api_key)          # KeyHash(3f2a…); the key itself is not kept
    """

    __slots__ = ("_secret", "secret_id")

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else bytes(secret)
        if not raw:
            raise ValueError("the cache secret must not be empty")
        self._secret = raw
        #: A fingerprint that names the secret without revealing it (in broadcasts and ``KeyHash``).
        self.secret_id = hashlib.sha256(b"events-gateway cache secret id\0" + raw).hexdigest()[
            :_SECRET_ID_HEX
        ]

    @classmethod
    def random(cls) -> KeyHasher:
        """A hasher with a fresh random secret (one process, nothing shared)."""
        return cls(new_secret())

    def hash(self, api_key: str) -> KeyHash:
        digest = hmac.new(self._secret, api_key.encode(), hashlib.sha256).hexdigest()[:KEY_HASH_HEX]
        return KeyHash(digest, self.secret_id)

    def __repr__(self) -> str:
        return f"KeyHasher(secret_id={self.secret_id})"


def new_secret() -> str:
    """A random secret of 256 bits, printable so it can be stored as a Redis string."""
    return secrets.token_urlsafe(32)


def canonical_request(
    method: str, path: str, params: Mapping[str, str] | Iterable[tuple[str, str]] = ()
) -> str:
    """One spelling of a request, so equal requests share an entry: ``GET /event/events/?page=2&title=a``.

    Parameters are sorted by name; repeated names keep their order (it may matter to the upstream).
    Names and values are percent-encoded, so no value can pose as another parameter.
    """
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    pairs.sort(key=lambda pair: pair[0])
    query = "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)
    return f"{method.upper()} {path}?{query}" if query else f"{method.upper()} {path}"
