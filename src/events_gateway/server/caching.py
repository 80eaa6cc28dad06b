"""Cache headers on ``GET /graphql``, so no shared cache ever hands one caller's data to another.

A GET query is cacheable by design (that is why it is allowed), but its answer depends on who asks: the
caller's key selects the workspace, and ``Accept`` selects the media type and status code. So every GET
answer says ``Vary: Accept, Authorization``, and any answer computed with a key — the caller's own, or
the operator's fallback key for requests without one — is ``Cache-Control: private``: a browser may
keep it, a CDN or proxy may not. Only an answer with no key in play at all (the schema's shape, or an
``UNAUTHENTICATED`` error) is left to the cache's defaults, since no workspace's data can be in it.
"""

from __future__ import annotations

from aiohttp import hdrs, web

#: The request headers a ``GET /graphql`` answer depends on.
VARY: tuple[str, ...] = ("Accept", "Authorization")


def add_cache_headers(request: web.Request, response: web.StreamResponse, *, fallback_key: bool) -> None:
    """Mark a ``GET /graphql`` answer: ``Vary`` always, ``private`` when a key was in play."""
    if request.method not in (hdrs.METH_GET, hdrs.METH_HEAD):
        return
    present = [part.strip() for part in response.headers.get(hdrs.VARY, "").split(",") if part.strip()]
    missing = [name for name in VARY if name.lower() not in {part.lower() for part in present}]
    response.headers[hdrs.VARY] = ", ".join([*present, *missing])
    if fallback_key or hdrs.AUTHORIZATION in request.headers:
        response.headers[hdrs.CACHE_CONTROL] = "private"
