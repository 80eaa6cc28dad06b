"""Request URLs below the upstream's base: built exactly once per call, and cheaply.

A batched List Resources URL runs to 7 KB of percent-encoded filter JSON. ``urllib.parse.quote`` and
``httpx.URL``'s parser both walk such a string one character at a time in Python, which measured about
2 ms of CPU per call, more than the whole rest of the exchange. Here the query is encoded with one
``str.translate`` (C speed; same output as ``quote(text, safe="")``), and the ``httpx.URL`` is assembled
from parts that are already in httpx's normal form, so httpx has nothing left to check or re-encode.
The assembly uses httpx's internal ``ParseResult``; :class:`UrlBuilder` proves on construction that it
matches httpx's own parse, and falls back to parsing if a future httpx ever disagrees.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from httpx._urlparse import ParseResult  # internal; guarded by UrlBuilder._assembly_matches_parsing

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
#: Every ASCII character outside RFC 3986's unreserved set, mapped to its ``%XX`` form.
_PERCENT = {code: f"%{code:02X}" for code in range(128) if chr(code) not in _UNRESERVED}


@functools.lru_cache(maxsize=256)
def percent_encode(text: str) -> str:
    """``quote(text, safe="")``, at C speed for ASCII text (all JSON that ``orjson`` writes for ids).

    Cached: every page of one batched list carries the same filter, a few KB to encode each time.
    """
    if text.isascii():
        return text.translate(_PERCENT)
    return quote(text, safe="")


def encode_query(params: Mapping[str, Any]) -> str:
    """``a=1&b=2`` with every value percent-encoded in full; ``None`` values are left out."""
    return "&".join(
        f"{percent_encode(name)}={percent_encode(str(value))}"
        for name, value in params.items()
        if value is not None
    )


class UrlBuilder:
    """Absolute URLs ``<base><path>/?<query>`` (always a trailing slash) below one base URL."""

    def __init__(self, base: httpx.URL) -> None:
        self.base = base
        self.prefix = str(base).rstrip("/")
        self._base_path = base.path.rstrip("/")
        self._assemble = self._assembly_matches_parsing()

    def text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """The URL as sent on the wire; ``len(text.encode())`` is its exact size."""
        query = encode_query(params) if params else ""
        return f"{self.prefix}{path}/" + (f"?{query}" if query else "")

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.URL:
        """The same URL as an ``httpx.URL``; ``path`` must be percent-encoded already (see ``path_id``)."""
        if not self._assemble:
            return httpx.URL(self.text(path, params))
        query = encode_query(params) if params else ""
        return self._assembled(f"{self._base_path}{path}/", query or None)

    def _assembled(self, path: str, query: str | None) -> httpx.URL:
        base = self.base
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = ParseResult(base.scheme, "", base.host, base.port, path, query, None)
        return url

    def _assembly_matches_parsing(self) -> bool:
        if self.base.userinfo or self.base.host != self.base.raw_host.decode("ascii"):
            return False  # credentials in the URL or an internationalised host: parse every time
        params = {"filter": '{"operator":"in","field":"id","value":["a b","ü&=+#%/?"]}', "page": 2}
        try:
            assembled = self._assembled(f"{self._base_path}/resource/catalog/", encode_query(params))
            parsed = httpx.URL(self.text("/resource/catalog", params))
            return (
                assembled == parsed
                and str(assembled) == str(parsed)
                and assembled.raw_path == parsed.raw_path
            )
        except Exception:  # any change inside httpx: fall back to the public, parsing path
            return False
