"""A GraphQL result as an HTTP answer: its body (every error with a code) and its status code.

The GraphQL spec leaves the ``data`` entry out when a *request error* stopped the operation before it ran
(a syntax error, a validation failure, a query limit, variables that do not coerce); a *field error*
happens during execution and comes with a ``path``. GraphQL over HTTP builds its status codes on that
difference, for ``application/graphql-response+json`` only: no ``data`` → 4xx (5xx for our own failure),
``data`` present (even ``null``) → 200. With ``application/json`` a well-formed request always gets 200.

The graph layer codes every failure of its own; the errors graphql-core raises itself carry no code, so
they get one here, at the edge, where the phase that raised them is known (``graph/codes.py`` lists every
code):

- ``GRAPHQL_PARSE_FAILED``: the document is not GraphQL;
- ``GRAPHQL_VALIDATION_FAILED``: it does not fit the schema (or introspection is off);
- ``BAD_USER_INPUT``: the variables do not fit their declared types;
- ``INTERNAL_SERVER_ERROR``: anything else (an exception that escaped the masking, or a result that broke
  the schema's own types), masked, with the request id, and logged with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from ..graph import ErrorCode
from .negotiation import GRAPHQL_RESPONSE_JSON
from .persisted_queries import APQ_CUES

logger = logging.getLogger("events_gateway.server")


def is_request_error(result: ExecutionResult) -> bool:
    """Whether the operation never ran: no data, and no error points into the response (no ``path``)."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or ())


def response_body(result: ExecutionResult, *, request_id: str) -> dict[str, Any]:
    """The GraphQL response for ``result``: ``data`` only if execution started, a code on every error."""
    request_error = is_request_error(result)
    body: dict[str, Any] = {} if request_error else {"data": result.data}
    if result.errors:
        body["errors"] = [
            _coded(error, result=result, request_error=request_error, request_id=request_id)
            for error in result.errors
        ]
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def status_for(body: dict[str, Any], media_type: str) -> int:
    """The status a GraphQL response travels with under ``media_type`` (GraphQL over HTTP, Status Codes)."""
    if media_type != GRAPHQL_RESPONSE_JSON or "data" in body:
        return 200
    codes = {error.get("extensions", {}).get("code") for error in body.get("errors", ())}
    if codes and codes <= APQ_CUES:  # Apollo's protocol: a 200 cue to send the query along
        return 200
    return 500 if ErrorCode.INTERNAL_SERVER_ERROR in codes else 400


def _coded(
    error: GraphQLError, *, result: ExecutionResult, request_error: bool, request_id: str
) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    if "code" in extensions:
        return formatted
    original = error.original_error
    if isinstance(error, GraphQLSyntaxError):
        code = ErrorCode.GRAPHQL_PARSE_FAILED
    elif request_error and (original is None or isinstance(original, GraphQLError)):
        code = (
            ErrorCode.GRAPHQL_VALIDATION_FAILED
            if isinstance(result, PreExecutionError)
            else ErrorCode.BAD_USER_INPUT
        )
    else:
        logger.error(
            "uncoded error at %s (request %s): %s",
            ".".join(str(part) for part in error.path or ()) or "the request",
            request_id,
            error.message,
            exc_info=(type(original), original, original.__traceback__) if original is not None else None,
        )
        masked: dict[str, Any] = {"message": ErrorCode.INTERNAL_SERVER_ERROR.message}
        for key in ("locations", "path"):
            if key in formatted:
                masked[key] = formatted[key]
        masked["extensions"] = {"code": ErrorCode.INTERNAL_SERVER_ERROR, "requestId": request_id}
        return masked
    formatted["extensions"] = {**extensions, "code": code}
    return formatted
