"""The one boundary where httpx failures and upstream status codes become the gateway's own errors.

Every exchange runs inside :func:`map_httpx_exceptions`; every non-2xx answer goes through
:func:`error_for_status`. Messages are the constants below, never the upstream's body or headers, and
never anything that could carry the caller's key, so they are safe to show a client.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from .errors import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamMisuse,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .resilience import parse_retry_after

MSG_TIMEOUT = "The upstream did not answer in time."
MSG_UNREACHABLE = "The upstream could not be reached."
MSG_SERVER_ERROR = "The upstream failed while handling the request."
MSG_UNREADABLE = "The upstream sent a response the gateway could not read."
MSG_UNEXPECTED_STATUS = "The upstream answered with a status the gateway does not handle."
MSG_FOREIGN_LINK = "The upstream sent a pagination link to another host; it was not followed."
MSG_UNAUTHENTICATED = "The upstream rejected the API key."
MSG_NO_KEY = "No API key was given; the upstream requires one."
MSG_MALFORMED_KEY = "The API key is malformed: it must be printable ASCII without spaces."
MSG_FORBIDDEN = "The API key does not have permission for this operation."
MSG_NOT_FOUND = "The requested object does not exist upstream."
MSG_BAD_REQUEST = "The upstream rejected the request as invalid; see the field errors."
MSG_RATE_LIMITED = "The upstream's rate limit was reached; retry later."
MSG_MISUSE = "The gateway built a request the HTTP client refused."

#: The statuses whose body carries per-field messages (``BadRequest.field_errors``); only these are decoded.
FIELD_ERROR_STATUSES = frozenset({400, 409, 413, 422})

#: httpx exception class → our class, most specific first. ``test_every_httpx_exception_is_mapped`` walks
#: httpx's tree and fails when a class is missing here (or would only match a too-general row).
HTTPX_EXCEPTION_MAP: tuple[tuple[type[Exception], type[UpstreamError] | type[UpstreamMisuse], str], ...] = (
    (httpx.TimeoutException, UpstreamTimeout, MSG_TIMEOUT),  # connect, read, write, pool
    (httpx.LocalProtocolError, UpstreamMisuse, MSG_MISUSE),  # we sent something invalid
    (httpx.UnsupportedProtocol, UpstreamMisuse, MSG_MISUSE),  # a URL scheme we refuse to build
    (httpx.RemoteProtocolError, UpstreamUnavailable, MSG_UNREADABLE),  # the upstream broke HTTP
    (httpx.ProtocolError, UpstreamUnavailable, MSG_UNREADABLE),
    (httpx.NetworkError, UpstreamUnavailable, MSG_UNREACHABLE),  # connect, read, write, close
    (httpx.ProxyError, UpstreamUnavailable, MSG_UNREACHABLE),
    (httpx.TransportError, UpstreamUnavailable, MSG_UNREACHABLE),
    (httpx.DecodingError, UpstreamUnavailable, MSG_UNREADABLE),  # a bad Content-Encoding
    (httpx.TooManyRedirects, UpstreamUnavailable, MSG_UNEXPECTED_STATUS),
    (httpx.HTTPStatusError, UpstreamUnavailable, MSG_UNEXPECTED_STATUS),
    (httpx.RequestError, UpstreamUnavailable, MSG_UNREACHABLE),
    (httpx.HTTPError, UpstreamUnavailable, MSG_UNREACHABLE),  # the root, raised bare by some wrappers
    (httpx.InvalidURL, UpstreamMisuse, MSG_MISUSE),
    (httpx.CookieConflict, UpstreamMisuse, MSG_MISUSE),
    (httpx.StreamError, UpstreamMisuse, MSG_MISUSE),  # read twice, read after close
)

#: The roots of httpx's exception trees; everything httpx raises derives from one of them.
HTTPX_EXCEPTION_ROOTS: tuple[type[Exception], ...] = (
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.CookieConflict,
    httpx.StreamError,
)


def mapped_class(
    exc_type: type[BaseException],
) -> tuple[type[UpstreamError] | type[UpstreamMisuse], str] | None:
    """Our class and message for an httpx exception class, or ``None`` when it is not mapped."""
    for source, target, message in HTTPX_EXCEPTION_MAP:
        if issubclass(exc_type, source):
            return target, message
    return None


@contextlib.contextmanager
def map_httpx_exceptions(route: str) -> Iterator[None]:
    """Re-raise any httpx failure inside the block as ours, chained ``from`` the original."""
    try:
        yield
    except HTTPX_EXCEPTION_ROOTS as exc:
        found = mapped_class(type(exc))
        if found is None:  # pragma: no cover - the completeness test keeps this unreachable
            raise
        target, message = found
        if issubclass(target, UpstreamMisuse):
            raise target(message) from exc
        raise target(message, route=route) from exc


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now for a client to report; a negative delay reads as "now".

    The same reading the retrying transport uses (:func:`~.resilience.parse_retry_after`), so both agree
    on what the upstream asked for.
    """
    return parse_retry_after(value, now=now, negative_as_zero=True)


def field_errors(body: Any) -> dict[str, list[str]]:
    """Per-field messages from a DRF body (``{"title": ["required"]}``) or a ninja/pydantic 422 body.

    Nested objects become dotted names; anything that is not a JSON object gives no field errors.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(body, dict):
        return errors
    detail = body.get("detail")
    if isinstance(detail, list) and detail and all(isinstance(item, dict) for item in detail):
        for item in detail:  # [{"loc": ["body", "title"], "msg": "field required"}]
            loc = item.get("loc")
            parts = (
                [str(p) for p in loc if p not in ("body", "query", "path")] if isinstance(loc, list) else []
            )
            name = ".".join(parts) or "detail"
            if isinstance(item.get("msg"), str):
                errors.setdefault(name, []).append(item["msg"])
        return errors
    _collect(body, "", errors)
    return errors


def _collect(value: Any, prefix: str, errors: dict[str, list[str]]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _collect(inner, f"{prefix}.{key}" if prefix else str(key), errors)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                _collect(item, prefix, errors)
            elif isinstance(item, str | int | float) and not isinstance(item, bool):
                errors.setdefault(prefix, []).append(str(item))
    elif isinstance(value, str):
        errors.setdefault(prefix, []).append(value)


def error_for_status(status: int, *, route: str, body: Any, retry_after: str | None) -> UpstreamError:
    """The exception for a non-2xx answer; ``body`` is the decoded JSON (or ``None``) when it has fields."""
    if status in FIELD_ERROR_STATUSES:
        return BadRequest(MSG_BAD_REQUEST, field_errors=field_errors(body), route=route, status=status)
    if status == 401:
        return Unauthenticated(MSG_UNAUTHENTICATED, route=route, status=status)
    if status == 403:
        return Forbidden(MSG_FORBIDDEN, route=route, status=status)
    if status in (404, 410):
        return NotFound(MSG_NOT_FOUND, route=route, status=status)
    if status == 429:
        return RateLimited(
            MSG_RATE_LIMITED, retry_after=retry_after_seconds(retry_after), route=route, status=status
        )
    if status >= 500:
        return UpstreamUnavailable(MSG_SERVER_ERROR, route=route, status=status)
    return UpstreamUnavailable(MSG_UNEXPECTED_STATUS, route=route, status=status)
