"""Failures the graph layer raises itself, and the one mapping of every expected failure to a GraphQL error.

The tree of what a client can see, each leaf with its ``extensions.code`` (``codes.py`` lists them all)::

    GraphError                         (root of the graph layer's own failures; never raised itself)
    ├── MissingKey                     → UNAUTHENTICATED (no key on the request, none configured)
    ├── MissingObject                  → NOT_FOUND (a single lookup found nothing)
    ├── LiveUnavailable                → LIVE_UNAVAILABLE (a subscription run as a query: ``live.py``)
    ├── TooManySubscriptions           → TOO_MANY_SUBSCRIPTIONS (``events_gateway.live``)
    ├── ShuttingDown                   → SHUTTING_DOWN (``events_gateway.live``)
    └── InvalidInput                   → BAD_USER_INPUT (checked before any upstream call; names the field)
    UpstreamError                      (``events_gateway.upstream.errors``; coded by ``UPSTREAM_CODES``)
    ├── UpstreamUnreachable
    │   ├── UpstreamTimeout            → UPSTREAM_TIMEOUT
    │   └── UpstreamUnavailable        → UPSTREAM_UNAVAILABLE
    └── UpstreamRejected
        ├── Unauthenticated            → UNAUTHENTICATED
        ├── Forbidden                  → FORBIDDEN
        ├── NotFound                   → NOT_FOUND
        ├── BadRequest                 → BAD_USER_INPUT (with ``field`` and ``fieldErrors``)
        └── RateLimited                → RATE_LIMITED (with ``retryAfter``)

The upstream package knows nothing of GraphQL, so its classes are given their codes here, at the boundary;
a test walks every class of its tree and fails on one missing from ``UPSTREAM_CODES``. Anything else a
resolver raises (``UpstreamMisuse`` included) is a bug: the masking extension (``graph/masking.py``) logs
it with its traceback and shows the client only ``INTERNAL_SERVER_ERROR`` with the request id.

Every message here is written by us, never copied from an upstream body, so it is safe to show a client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from graphql import GraphQLError

from ..upstream import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from .codes import ErrorCode

#: Each upstream exception class and its code; a subclass not listed takes its nearest listed ancestor's.
UPSTREAM_CODES: Final[Mapping[type[UpstreamError], ErrorCode]] = MappingProxyType(
    {
        UpstreamError: ErrorCode.UPSTREAM_UNAVAILABLE,  # the root, never raised itself
        UpstreamUnreachable: ErrorCode.UPSTREAM_UNAVAILABLE,  # never raised itself
        UpstreamTimeout: ErrorCode.UPSTREAM_TIMEOUT,
        UpstreamUnavailable: ErrorCode.UPSTREAM_UNAVAILABLE,
        UpstreamRejected: ErrorCode.UPSTREAM_UNAVAILABLE,  # never raised itself; each 4xx has its leaf
        Unauthenticated: ErrorCode.UNAUTHENTICATED,
        Forbidden: ErrorCode.FORBIDDEN,
        NotFound: ErrorCode.NOT_FOUND,
        BadRequest: ErrorCode.BAD_USER_INPUT,
        RateLimited: ErrorCode.RATE_LIMITED,
    }
)


def upstream_code(error: UpstreamError) -> ErrorCode:
    """The code of an upstream failure: its class's row in ``UPSTREAM_CODES``, else its nearest ancestor's."""
    return next(UPSTREAM_CODES[cls] for cls in type(error).__mro__ if cls in UPSTREAM_CODES)


class GraphError(Exception):
    """Root of the failures the graph layer raises itself; ``message`` defaults to the code's own."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str | None = None) -> None:
        message = self.code.message if message is None else message
        super().__init__(message)
        self.message = message


class MissingKey(GraphError):
    """The request carries no API key and the gateway has none configured."""

    code = ErrorCode.UNAUTHENTICATED


class MissingObject(GraphError):
    """A lookup by id found no object: the field resolves to ``null`` next to this error."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"No {kind} has the id {object_id!r}.")
        self.kind = kind
        self.object_id = object_id


class InvalidInput(GraphError):
    """An argument failed a check before any upstream call; ``field`` names it as the client wrote it."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.field_errors: dict[str, list[str]] = {field: [message]}


_SNAKE = re.compile(r"_([a-z0-9])")


def camel_case(name: str) -> str:
    """``owners_groups`` → ``ownersGroups``: upstream field names as the schema spells them."""
    return _SNAKE.sub(lambda match: match.group(1).upper(), name)


#: Upstream body fields whose GraphQL input names differ by more than case.
_INPUT_NAMES: Final = {"integration": "integrationId", "parent": "parentId", "enum": "enumValues"}


def extensions_for(error: Exception) -> dict[str, Any] | None:
    """The ``extensions`` of an expected failure, or ``None`` when ``error`` is unexpected (a bug)."""
    if isinstance(error, InvalidInput):
        return {"code": error.code, "field": error.field, "fieldErrors": error.field_errors}
    if isinstance(error, GraphError):
        return {"code": error.code}
    if not isinstance(error, UpstreamError):
        return None
    code = upstream_code(error)
    if isinstance(error, BadRequest):
        fields = {
            _INPUT_NAMES.get(name, camel_case(name)): list(msgs) for name, msgs in error.field_errors.items()
        }
        extensions: dict[str, Any] = {"code": code, "fieldErrors": fields}
        if len(fields) == 1:
            extensions["field"] = next(iter(fields))
        return extensions
    if isinstance(error, RateLimited):
        return {"code": code, "retryAfter": error.retry_after}
    return {"code": code}


def message_for(error: Exception, code: ErrorCode) -> str:
    """The client's message for an expected failure: its own, else its code's default."""
    return getattr(error, "message", "") or str(error) or code.message


def relocate(
    error: GraphQLError, *, message: str, extensions: dict[str, Any], original_error: Exception | None
) -> GraphQLError:
    """A copy of ``error`` with our message, extensions and cause, keeping its path and locations."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original_error,
        extensions=extensions,
    )
