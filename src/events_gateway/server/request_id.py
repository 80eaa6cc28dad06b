"""One id per HTTP request, so a client's report and the gateway's log line can be matched.

A sane incoming ``X-Request-Id`` (from a load balancer or the client) is kept, anything else is replaced
by a fresh one; the id is echoed in the response's ``X-Request-Id`` header on every response, errors
included, and handed to the GraphQL context.
"""

from __future__ import annotations

import re
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

HEADER = "X-Request-Id"
#: Visible ASCII that is safe in a header and a log line; long enough for UUIDs and trace ids.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

REQUEST_ID_KEY = web.RequestKey("request_id", str)


def is_sane(value: str) -> bool:
    """Whether an incoming id can be reused as is (no spaces, controls, or unbounded length)."""
    return _SANE.fullmatch(value) is not None


def ensure_request_id(request: web.Request) -> str:
    """The request's id: assigned on first use from the incoming header or generated."""
    if REQUEST_ID_KEY in request:
        return request[REQUEST_ID_KEY]
    incoming = request.headers.get(HEADER, "")
    request_id = incoming if is_sane(incoming) else uuid.uuid4().hex
    request[REQUEST_ID_KEY] = request_id
    return request_id


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Assign the id before any handler runs, so the context and the logs see the same one."""
    ensure_request_id(request)
    return await handler(request)


async def stamp_request_id(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: the header goes on every response, streamed and error ones too."""
    if isinstance(request, web.Request):
        response.headers[HEADER] = ensure_request_id(request)
