"""Cross-cutting behaviour of ``/api/v1``, one middleware each, in the order ``app.py`` lists them.

Outermost first: errors → counters → latency → faults → auth → write limit → handler. The error catcher
renders every failure in the upstream's envelope (never a traceback); the counters see the final status;
an injected fault answers before auth and before any handler, so it can never apply a write. Paths outside
``/api/v1`` (the test aids) pass through everything but the error catcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from . import errors as e
from .errors import ApiError, AuthError, ThrottledError
from .keys import API_KEY, STATE, WORKSPACE
from .state import CallRecord
from .views import API_PREFIX, PUBLIC_ROUTES, route_label

logger = logging.getLogger("events_gateway.emulator")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: A 200 whose body stops mid-JSON, as a cut connection or a broken proxy would deliver it.
MALFORMED_BODY = b'{"links": {"next": null, "previous": null}, "meta": {"page": 1, "previous_pa'


def _is_api(request: web.Request) -> bool:
    return request.path == API_PREFIX or request.path.startswith(f"{API_PREFIX}/")


def _matched(request: web.Request) -> bool:
    return request.match_info.http_exception is None


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    if exc.status == 404:
        return e.detail(404, e.NOT_FOUND)
    if isinstance(exc, web.HTTPMethodNotAllowed):
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return e.detail(405, e.METHOD_NOT_ALLOWED.format(method=exc.method), headers)
    return e.detail(exc.status, exc.reason)


def _status_of(exc: BaseException) -> int:
    if isinstance(exc, ApiError | web.HTTPException):
        return exc.status
    return 500


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: every failure leaves as the upstream's JSON envelope, and a crash is logged, not shown."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc)
    except Exception:
        logger.exception("emulator: unhandled error on %s %s", request.method, request.path)
        return e.detail(500, e.SERVER_ERROR)


@web.middleware
async def stats_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts each API call with its route label, final status and start/end times (perf_counter)."""
    if not _is_api(request):
        return await handler(request)
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except BaseException as exc:
        status = _status_of(exc)
        raise
    finally:
        state = request.app[STATE]
        state.stats.record(CallRecord(route_label(request), status, start, time.perf_counter()))


@web.middleware
async def latency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    delay = request.app[STATE].config.latency_ms
    if delay > 0 and _is_api(request):
        await asyncio.sleep(delay / 1000)
    return await handler(request)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answers the API requests a fault rule names, and a drawn share of the others, with a fault, decided
    before anything reads or writes data."""
    if not _is_api(request):
        return await handler(request)
    state = request.app[STATE]
    kind = state.ruled_fault(route_label(request), request.query) or state.draw_fault()
    if kind is None:
        return await handler(request)
    if kind == "500":
        return e.detail(500, e.SERVER_ERROR)
    if kind == "503":
        return e.detail(503, e.SERVICE_UNAVAILABLE)
    if kind == "429":
        raise ThrottledError(retry_after=1)
    if kind == "stall":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.closing.wait(), timeout=state.config.stall_seconds)
        return e.detail(504, e.STALLED)
    return web.Response(status=200, body=MALFORMED_BODY, content_type="application/json")


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``Authorization: Bearer <key>``; the key's workspace scopes everything the request sees."""
    if not _is_api(request) or not _matched(request) or route_label(request) in PUBLIC_ROUTES:
        return await handler(request)
    key = _bearer(request)
    if key is None:
        raise AuthError(e.NOT_AUTHENTICATED)
    workspace = request.app[STATE].config.api_keys.get(key)
    if workspace is None:
        raise AuthError(e.INVALID_TOKEN)
    request[API_KEY] = key
    request[WORKSPACE] = workspace
    return await handler(request)


@web.middleware
async def write_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """At most ``write_limit`` writes per key per window; over it, 429 with ``Retry-After`` in seconds."""
    config = request.app[STATE].config
    if request.method in WRITE_METHODS and config.write_limit and API_KEY in request:
        wait = request.app[STATE].limiter.admit(
            request[API_KEY], time.monotonic(), config.write_limit, config.write_window
        )
        if wait is not None:
            raise ThrottledError(retry_after=wait)
    return await handler(request)


#: Outermost first.
MIDDLEWARES = (
    error_middleware,
    stats_middleware,
    latency_middleware,
    fault_middleware,
    auth_middleware,
    write_limit_middleware,
)
