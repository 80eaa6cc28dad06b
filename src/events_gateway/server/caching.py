"""Cache headers on ``GET /graphql``, so a browser may keep an answer and no shared cache ever hands one
caller's data to another.

A GET query is cacheable by design (that is why it is allowed), but its answer depends on who asks: the
caller's key selects the workspace, and ``Accept`` selects the media type and status code. So:

- every GET answer says ``Vary: Accept, Authorization``;
- any answer computed with a key (the caller's own, or the operator's fallback key for requests without
  one) is ``Cache-Control: private``: a browser may keep it, a CDN or proxy must not store it. Only an
  answer with no key in play at all (the schema's shape, or an ``UNAUTHENTICATED`` error) is left to the
  caches' defaults, since no workspace's data can be in it;
- an answer the gateway's cache vouches for (no errors; ``operation_cache.Freshness``) says how long it
  stays fresh: ``private, max-age=<seconds of the TTL left>``, ``max-age=0`` once stale;
- a 200 answer computed with a key carries a strong ``ETag``: a hash of the caller's key hash and the
  body, so two callers never share one. A request whose ``If-None-Match`` names it is answered
  ``304 Not Modified`` without a body; when the operation cache holds the answer (nothing changed since:
  no write bumped its generations, and it is still fresh), nothing was executed to know it.
"""

from __future__ import annotations

import hashlib
import math

from aiohttp import hdrs, web

from ..cache import KeyHash
from .operation_cache import FRESHNESS_KEY

#: The request headers a ``GET /graphql`` answer depends on.
VARY: tuple[str, ...] = ("Accept", "Authorization")
#: Hex characters of an ETag: 128 bits.
_ETAG_HEX = 32


def add_cache_headers(
    request: web.Request,
    response: web.StreamResponse,
    *,
    fallback_key: bool,
    key_hash: KeyHash | None = None,
    ttl: float = 0.0,
) -> web.StreamResponse:
    """Mark a ``GET /graphql`` answer (see the module docstring); the answer to send, which is a bodiless
    ``304`` when the request's ``If-None-Match`` names the answer's ``ETag``."""
    if request.method not in (hdrs.METH_GET, hdrs.METH_HEAD):
        return response
    present = [part.strip() for part in response.headers.get(hdrs.VARY, "").split(",") if part.strip()]
    missing = [name for name in VARY if name.lower() not in {part.lower() for part in present}]
    response.headers[hdrs.VARY] = ", ".join([*present, *missing])
    if not (fallback_key or hdrs.AUTHORIZATION in request.headers):
        return response
    control = "private"
    freshness = request.get(FRESHNESS_KEY)
    if freshness is not None and response.status == 200 and ttl > 0:
        left = 0 if freshness.stale else max(0, math.floor(ttl - freshness.age))
        control = f"private, max-age={left}"
    response.headers[hdrs.CACHE_CONTROL] = control
    if key_hash is None or response.status != 200 or not isinstance(response, web.Response):
        return response
    body = response.body
    if not isinstance(body, bytes):
        return response
    tag = hashlib.sha256(key_hash.digest.encode() + b"\n" + body).hexdigest()[:_ETAG_HEX]
    response.etag = tag
    if not _names(request, tag):
        return response
    not_modified = web.Response(status=304)
    for name in (hdrs.ETAG, hdrs.CACHE_CONTROL, hdrs.VARY):
        not_modified.headers[name] = response.headers[name]
    return not_modified


def _names(request: web.Request, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, as RFC 9110 asks of it) or is ``*``."""
    try:
        conditions = request.if_none_match
    except ValueError:  # a malformed header is ignored, as if absent
        return False
    if not conditions:
        return False
    return any(condition.value in (tag, "*") for condition in conditions)
