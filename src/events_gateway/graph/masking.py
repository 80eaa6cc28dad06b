"""The error edge of the schema: expected failures get a typed code, anything else is masked and logged.

Resolvers raise plain exceptions (``UpstreamError`` or ``GraphError``) and stay free of GraphQL error
plumbing; this extension turns each into a GraphQL error once the operation has run, keeping its path and
locations so partial data still lines up with its errors.

Once an error is translated (and, if unexpected, logged), its tracebacks are dropped: each one holds the
frames it passed through, and those frames the pages, answers and loaders of the request, in a cycle
through graphql-core's execution context that only the cycle collector breaks. Under sustained upstream
faults that kept megabytes of finished requests alive between its passes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult, StreamExecutionResult

from .codes import ErrorCode
from .errors import extensions_for, message_for, relocate

logger = logging.getLogger("events_gateway.graph")


class ErrorMasking(SchemaExtension):
    """Give every expected failure its ``extensions.code``; mask and log every unexpected one."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        result.errors = [self._translate(error) for error in errors]

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """The same for each result a subscription streams (the operation's end comes only after them)."""
        if isinstance(result, ExecutionResult) and result.errors:
            result.errors = [self._translate(error) for error in result.errors]
        yield

    def _translate(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return error  # parsing, validation or coercion: already a client-facing GraphQL error
        extensions = extensions_for(original)
        if extensions is not None:
            message = message_for(original, extensions["code"])
            _forget_frames(error)  # an expected error is never logged: nothing reads its traceback
            return relocate(error, message=message, extensions=extensions, original_error=original)
        request_id = getattr(self.execution_context.context, "request_id", None)
        logger.error(
            "unexpected error at %s (request %s)",
            ".".join(str(part) for part in error.path or ()),
            request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        _forget_frames(error)
        return relocate(  # without its cause: the traceback was logged here and goes no further
            error,
            message=ErrorCode.INTERNAL_SERVER_ERROR.message,
            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR, "requestId": request_id},
            original_error=None,
        )


def _forget_frames(error: BaseException) -> None:
    """Drop the tracebacks of ``error`` and of every error it was raised from or located around."""
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__, getattr(current, "original_error", None)]
