"""The outermost middleware: nothing unexpected leaves the gateway as a traceback.

aiohttp's own status exceptions (404, 405, …) pass through untouched; anything else is logged with its
traceback and the request id, and the client gets a GraphQL-shaped 500 carrying only that id.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from .request_id import ensure_request_id

logger = logging.getLogger("events_gateway.server")

INTERNAL_ERROR_MESSAGE = "Internal server error; quote the request id when reporting it."


def error_body(message: str, *, code: str, request_id: str) -> dict[str, object]:
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
        body = error_body(INTERNAL_ERROR_MESSAGE, code="INTERNAL_SERVER_ERROR", request_id=request_id)
        return web.json_response(body, status=500)
