"""Every ``extensions.code`` the gateway answers with: its meaning and its default message, in one table.

Why one table: a client branches on these strings, so they are part of the API. Each layer raises with a
member of :class:`ErrorCode` and never spells a code itself; ``docs/errors.md`` tells clients what to do
about each one, and a test fails when the two disagree.

A member is the code itself (a ``str``), so it goes into ``extensions`` as is::

    GraphQLError(ErrorCode.NOT_FOUND.message, extensions={"code": ErrorCode.NOT_FOUND})

``message`` is what a client reads when the part that failed has nothing more specific to say; most
raisers say more (which limit, which field, which media type). ``meaning`` says when the code is given.

The upstream package knows none of these codes: ``graph/errors.py`` maps each upstream exception class
to its code, at the one boundary where upstream failures become GraphQL errors.
"""

from __future__ import annotations

import enum
from typing import Self

__all__ = ["ErrorCode"]


class ErrorCode(enum.StrEnum):
    """A code of ``extensions.code``, with its ``meaning`` and default ``message`` (see above)."""

    meaning: str
    message: str

    def __new__(cls, code: str, meaning: str, message: str) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        member.message = message
        return member

    # --- the caller's key and rights ------------------------------------------------------------------
    UNAUTHENTICATED = (
        "UNAUTHENTICATED",
        "The request carries no API key and the gateway has none to lend it, or the upstream refused "
        "the key (unknown, revoked or malformed).",
        "An API key is required: send 'Authorization: Bearer <key>'.",
    )
    FORBIDDEN = (
        "FORBIDDEN",
        "The upstream knows the key but does not let it perform this operation.",
        "The API key is not allowed to perform this operation.",
    )

    # --- what the operation asked for -----------------------------------------------------------------
    NOT_FOUND = (
        "NOT_FOUND",
        "No object has the requested id (the field is null beside the error); outside GraphQL, a path "
        "the gateway does not serve.",
        "Nothing exists under that id.",
    )
    BAD_USER_INPUT = (
        "BAD_USER_INPUT",
        "An argument or variable is unacceptable: it failed the gateway's own check, does not fit its "
        "declared type, or the upstream refused it; ``field`` and ``fieldErrors`` name the fields.",
        "The input is invalid; see the field errors.",
    )
    RATE_LIMITED = (
        "RATE_LIMITED",
        "The upstream's rate limit was reached; ``retryAfter`` holds the seconds to wait, when known.",
        "Too many requests; retry later.",
    )

    # --- the upstream ---------------------------------------------------------------------------------
    UPSTREAM_TIMEOUT = (
        "UPSTREAM_TIMEOUT",
        "The upstream did not answer in time, or the request's deadline for upstream calls ran out.",
        "The request ran out of time waiting for the upstream.",
    )
    UPSTREAM_UNAVAILABLE = (
        "UPSTREAM_UNAVAILABLE",
        "The upstream could not be reached, failed (5xx), sent an answer the gateway cannot read, or "
        "is paused by the circuit breaker after repeated failures.",
        "The upstream is unavailable; retry later.",
    )

    # --- the document ---------------------------------------------------------------------------------
    GRAPHQL_PARSE_FAILED = (
        "GRAPHQL_PARSE_FAILED",
        "The document is not GraphQL (a syntax error); nothing ran.",
        "The document is not valid GraphQL.",
    )
    GRAPHQL_VALIDATION_FAILED = (
        "GRAPHQL_VALIDATION_FAILED",
        "The document does not fit the schema, or asks for introspection while it is off; nothing ran.",
        "The document does not fit the schema.",
    )
    OPERATION_RESOLUTION_FAILURE = (
        "OPERATION_RESOLUTION_FAILURE",
        "``operationName`` names no operation of the document, or the document holds several "
        "operations and no ``operationName``; nothing ran.",
        "The operation to run could not be determined; check operationName.",
    )
    QUERY_TOO_COMPLEX = (
        "QUERY_TOO_COMPLEX",
        "The document is over a query limit (bytes, tokens, depth, aliases, introspection depth or "
        "predicted upstream calls); ``limit`` names it, beside the measured figure and its maximum; "
        "nothing ran.",
        "The document is over a query limit; see extensions.limit.",
    )

    # --- live queries (subscriptions) -----------------------------------------------------------------
    LIVE_UNAVAILABLE = (
        "LIVE_UNAVAILABLE",
        "A subscription sent as a plain HTTP request: subscriptions need a WebSocket "
        "(graphql-transport-ws) on /graphql or Server-Sent Events on /graphql/stream; nothing ran.",
        "Subscriptions need a streaming transport: a WebSocket (graphql-transport-ws) on /graphql, or "
        "Server-Sent Events on /graphql/stream.",
    )
    TOO_MANY_SUBSCRIPTIONS = (
        "TOO_MANY_SUBSCRIPTIONS",
        "The WebSocket already carries as many operations as the gateway allows one connection, or the "
        "key already holds as many subscriptions as it allows one key; this one was not started.",
        "Too many subscriptions; complete some before starting more.",
    )
    SHUTTING_DOWN = (
        "SHUTTING_DOWN",
        "The gateway is stopping: it starts no more subscriptions, and completes those it has.",
        "The gateway is shutting down; subscribe again in a moment.",
    )

    # --- persisted queries (Apollo's protocol; its exact messages, which clients match on) ------------
    PERSISTED_QUERY_NOT_FOUND = (
        "PERSISTED_QUERY_NOT_FOUND",
        "The hash names no stored document; answered with HTTP 200, a cue to send the query along.",
        "PersistedQueryNotFound",
    )
    PERSISTED_QUERY_NOT_SUPPORTED = (
        "PERSISTED_QUERY_NOT_SUPPORTED",
        "Persisted queries are turned off; answered with HTTP 200, a cue to send whole queries.",
        "PersistedQueryNotSupported",
    )

    # --- the HTTP request, refused before anything runs -----------------------------------------------
    BAD_REQUEST = (
        "BAD_REQUEST",
        "The request is not well-formed GraphQL over HTTP (not JSON, wrong parameter types, no query, "
        "a batch, a bad persisted-query extension or a hash that is not the query's); HTTP 400.",
        "The request is not a well-formed GraphQL request.",
    )
    UNSUPPORTED_MEDIA_TYPE = (
        "UNSUPPORTED_MEDIA_TYPE",
        "A POST body that is not application/json in UTF-8; HTTP 415.",
        "The request body must be application/json in UTF-8.",
    )
    NOT_ACCEPTABLE = (
        "NOT_ACCEPTABLE",
        "The Accept header admits neither response media type; HTTP 406.",
        "The Accept header admits no type this endpoint answers in; accept "
        "application/graphql-response+json or application/json.",
    )
    METHOD_NOT_ALLOWED = (
        "METHOD_NOT_ALLOWED",
        "A mutation over GET, or a method other than GET and POST; HTTP 405 with an Allow header.",
        "This method is not allowed here; see the Allow header.",
    )
    PAYLOAD_TOO_LARGE = (
        "PAYLOAD_TOO_LARGE",
        "The request body is over the server's size bound; HTTP 413.",
        "The request body is larger than this server accepts.",
    )
    MISDIRECTED_REQUEST = (
        "MISDIRECTED_REQUEST",
        "The Host header names a host the gateway does not answer for (DNS-rebinding protection); "
        "HTTP 421 on every route.",
        "This gateway does not answer for the host this request names.",
    )

    # --- the gateway itself ---------------------------------------------------------------------------
    INTERNAL_SERVER_ERROR = (
        "INTERNAL_SERVER_ERROR",
        "A failure of the gateway itself (a bug): masked, logged with its traceback under the request "
        "id that ``requestId`` carries.",
        "Internal server error; quote the request id when reporting it.",
    )
