"""Failures the graph layer raises itself, and the one mapping of every expected failure to a GraphQL error.

The tree of what a client can see, each leaf with its ``extensions.code``::

    GraphError                         (root of the graph layer's own failures; never raised itself)
    ├── MissingKey                     → UNAUTHENTICATED (no key on the request, none configured)
    ├── MissingObject                  → NOT_FOUND (a single lookup found nothing)
    └── InvalidInput                   → BAD_USER_INPUT (checked before any upstream call; names the field)
    UpstreamError                      (see ``events_gateway.upstream.errors``; each leaf carries its code)

Anything else a resolver raises is a bug: the masking extension (``graph/masking.py``) logs it with its
traceback and shows the client only ``INTERNAL_SERVER_ERROR`` with the request id.

Every message here is written by us, never copied from an upstream body, so it is safe to show a client.
"""

from __future__ import annotations

import re
from typing import Any, Final

from graphql import GraphQLError

from ..upstream import BadRequest, RateLimited, UpstreamError

UNAUTHENTICATED: Final = "UNAUTHENTICATED"
NOT_FOUND: Final = "NOT_FOUND"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"
RATE_LIMITED: Final = "RATE_LIMITED"
INTERNAL_SERVER_ERROR: Final = "INTERNAL_SERVER_ERROR"

MISSING_KEY_MESSAGE: Final = "An API key is required: send 'Authorization: Bearer <key>'."
INTERNAL_MESSAGE: Final = "Internal server error"


class GraphError(Exception):
    """Root of the failures the graph layer raises itself."""

    code: str = INTERNAL_SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingKey(GraphError):
    """The request carries no API key and the gateway has none configured."""

    code = UNAUTHENTICATED

    def __init__(self) -> None:
        super().__init__(MISSING_KEY_MESSAGE)


class MissingObject(GraphError):
    """A lookup by id found no object: the field resolves to ``null`` next to this error."""

    code = NOT_FOUND

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"No {kind} has the id {object_id!r}.")
        self.kind = kind
        self.object_id = object_id


class InvalidInput(GraphError):
    """An argument failed a check before any upstream call; ``field`` names it as the client wrote it."""

    code = BAD_USER_INPUT

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
    if isinstance(error, BadRequest):
        fields = {
            _INPUT_NAMES.get(name, camel_case(name)): list(msgs) for name, msgs in error.field_errors.items()
        }
        extensions: dict[str, Any] = {"code": error.code, "fieldErrors": fields}
        if len(fields) == 1:
            extensions["field"] = next(iter(fields))
        return extensions
    if isinstance(error, RateLimited):
        return {"code": error.code, "retryAfter": error.retry_after}
    if isinstance(error, UpstreamError):
        return {"code": error.code}
    return None


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
