"""Browser safety: no other website may act through the gateway's fallback key.

A fallback key (``EVENTS_API_KEY``, or the embedded emulator's demo key) is an ambient credential, like a
cookie: any page the user visits can make the browser send requests to a gateway on their machine. Two
rules, both applied before anything executes or reaches the upstream:

- **Host** (:func:`host_middleware`, every route): on a loopback bind, and on any bind once
  ``EVENTS_GATEWAY_ALLOWED_HOSTS`` is set, only requests whose ``Host`` is a loopback name or address or a
  listed one are served; others get 421 ``MISDIRECTED_REQUEST``. A DNS-rebinding page (a hostile name that
  resolves to 127.0.0.1) is same-origin for the browser; only its ``Host`` gives it away.
- **Origin** (:func:`caller_key`, ``/graphql``): a request without an ``Authorization`` header gets the
  fallback key only when it comes from no other origin. A browser says where a request comes from in
  ``Sec-Fetch-Site`` (only ``same-origin`` and ``none``, a user's own navigation, pass), ``Origin`` (absent,
  or the gateway's own) and ``Referer`` (absent, or on the gateway's own origin); all present must agree,
  since older browsers send only some. A browser request must also name a host the gateway trusts (loopback
  or listed), which stops a rebinding page on a non-loopback bind too. Anything else gets 401
  ``UNAUTHENTICATED`` and runs nothing; without a fallback key, nothing is lent and nothing is refused here.

The gateway's own origin is the scheme it was reached by (``https`` only when it terminates TLS itself) with
the ``Host`` header. ``X-Forwarded-*`` headers are ignored on purpose: a page may set them, and behind a
TLS-terminating proxy the mismatch only means the page must send a key, which it should there anyway.
"""

from __future__ import annotations

from typing import Final

import yarl
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from ..graph import ErrorCode
from .errors import RequestRefused, error_body
from .hosts import normal_name, split_host
from .keys import HOST_RULE_KEY
from .request_id import ensure_request_id

__all__ = [
    "bearer_key",
    "caller_key",
    "host_middleware",
    "parse_bearer",
]

#: ``Sec-Fetch-Site`` values of a request the page itself, or the user, made on the gateway's origin.
OWN_SITES: Final = frozenset({"same-origin", "none"})
DEFAULT_PORTS: Final = {"http": 80, "https": 443}

MISDIRECTED_MESSAGE: Final = (
    "This gateway does not answer for the host this request names: it serves loopback names "
    "(127.0.0.1, localhost, [::1]) and those listed in EVENTS_GATEWAY_ALLOWED_HOSTS."
)
FOREIGN_ORIGIN_MESSAGE: Final = (
    "This request comes from a page on another origin and carries no API key: send your own with "
    "'Authorization: Bearer <key>'. The gateway's own key serves only its GraphiQL page and clients "
    "outside a browser."
)
UNTRUSTED_HOST_MESSAGE: Final = (
    "This browser request carries no API key and names a host the gateway does not know as its own: "
    "send your own key with 'Authorization: Bearer <key>', or list the host in "
    "EVENTS_GATEWAY_ALLOWED_HOSTS."
)


Origin = tuple[str, str, int]


@web.middleware
async def host_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """421 for a ``Host`` the gateway does not answer for, before any route (or preflight) runs."""
    if request.app[HOST_RULE_KEY].serves(request.headers.get(hdrs.HOST)):
        return await handler(request)
    body = error_body(
        MISDIRECTED_MESSAGE, code=ErrorCode.MISDIRECTED_REQUEST, request_id=ensure_request_id(request)
    )
    return web.json_response(body, status=421, headers={hdrs.CACHE_CONTROL: "no-store"})


def bearer_key(request: web.Request) -> str | None:
    """The key of ``Authorization: Bearer <key>`` (scheme case-insensitive), or ``None``."""
    return parse_bearer(request.headers.get(hdrs.AUTHORIZATION, ""))


def parse_bearer(value: str) -> str | None:
    """The key of an ``Authorization`` value ``Bearer <key>`` (scheme case-insensitive), or ``None``;
    also for a value that came another way (a WebSocket's ``connection_init`` payload)."""
    scheme, _, key = value.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return key


def caller_key(request: web.Request, fallback: str | None) -> str | None:
    """The key a ``/graphql`` request runs with: its own, else ``fallback`` when it may be lent, else none.

    Any ``Authorization`` header counts as the caller's own (a malformed one gives no key, never the
    fallback). Raises ``RequestRefused`` (401) for a keyless request the fallback key is not lent to.
    """
    if hdrs.AUTHORIZATION in request.headers:
        return bearer_key(request)
    if fallback is None:
        return None
    refusal = _refusal(request)
    if refusal is not None:
        raise RequestRefused(
            401, ErrorCode.UNAUTHENTICATED, refusal, headers={hdrs.WWW_AUTHENTICATE: "Bearer"}
        )
    return fallback


def _refusal(request: web.Request) -> str | None:
    """Why the fallback key may not serve this request, or ``None`` when it may."""
    headers = request.headers
    site = headers.get("Sec-Fetch-Site")
    origin = headers.get(hdrs.ORIGIN)
    referer = headers.get(hdrs.REFERER)
    if site is None and origin is None and referer is None:
        return None  # not a browser: curl, a script, a server-side client
    own = _own_origin(request)
    if site is not None and site.strip().lower() not in OWN_SITES:
        return FOREIGN_ORIGIN_MESSAGE
    # ``Origin: null`` (sandboxed frames, file: pages) and anything unreadable count as foreign.
    for claimed in (origin, referer):
        if claimed is not None and (own is None or _origin_of(claimed) != own):
            return FOREIGN_ORIGIN_MESSAGE
    if not request.app[HOST_RULE_KEY].trusts(headers.get(hdrs.HOST)):
        return UNTRUSTED_HOST_MESSAGE
    return None


def _own_origin(request: web.Request) -> Origin | None:
    """The origin this request was addressed to: its scheme and its ``Host``."""
    parsed = split_host(request.headers.get(hdrs.HOST, ""))
    if parsed is None:
        return None
    name, port = parsed
    scheme = request.scheme
    return scheme, name, DEFAULT_PORTS.get(scheme, 0) if port is None else port


def _origin_of(url: str) -> Origin | None:
    """The (scheme, host, port) of an ``Origin`` or ``Referer`` value, or ``None`` when it has none."""
    try:
        parsed = yarl.URL(url.strip())
    except ValueError:
        return None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host or parsed.port is None:
        return None
    return parsed.scheme, normal_name(parsed.host), parsed.port
