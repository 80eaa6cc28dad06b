"""Failures outside GraphQL execution: the refusals of ``/graphql`` and the outermost catch-all middleware.

``RequestRefused`` is how the HTTP layer says no before anything executes (a body that is not JSON, a
media type the gateway cannot answer in, a mutation over GET, …); the view renders it with
:func:`error_body`, so every refusal reads like a GraphQL error with an ``extensions.code`` (each code,
its meaning and its default message are in ``graph/codes.py``):

====  ==========================  ==================================================================
415   UNSUPPORTED_MEDIA_TYPE      a POST body that is not ``application/json`` in UTF-8
406   NOT_ACCEPTABLE              ``Accept`` names neither response media type
405   METHOD_NOT_ALLOWED          a mutation over GET (``Allow: POST``), or a method other than GET/POST
413   PAYLOAD_TOO_LARGE           a body over the server's size bound
401   UNAUTHENTICATED             no key of its own, from a page the fallback key is not lent to
421   MISDIRECTED_REQUEST         a ``Host`` the gateway does not answer for (``browser_safety``'s middleware)
400   BAD_REQUEST                 anything else that is not a well-formed GraphQL-over-HTTP request
====  ==========================  ==================================================================

aiohttp's own status exceptions (404, 405, …) pass the middleware untouched; anything else is logged with
its traceback and the request id, and the client gets a GraphQL-shaped 500 carrying only that id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from ..graph import ErrorCode
from .request_id import ensure_request_id

logger = logging.getLogger("events_gateway.server")


class RequestRefused(Exception):
    """``/graphql`` refuses a request before executing anything; rendered as a GraphQL-shaped error.

    ``message`` defaults to the code's own (``graph/codes.py``). Example::

        raise RequestRefused(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json.")
    """

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        message = code.message if message is None else message
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_body(message: str, *, code: ErrorCode, request_id: str) -> dict[str, object]:
    """The one envelope for errors raised outside GraphQL execution (same shape as a GraphQL error)."""
    return {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        request_id = ensure_request_id(request)
        logger.exception("unhandled error in %s %s (request id %s)", request.method, request.path, request_id)
        code = ErrorCode.INTERNAL_SERVER_ERROR
        body = error_body(code.message, code=code, request_id=request_id)
        return web.json_response(body, status=500)
