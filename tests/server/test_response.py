"""The edge's last guard on a GraphQL result: an exception that escaped the graph layer's masking (e.g. one
raised inside a schema extension, which Strawberry turns into an error carrying ``str(exc)``) reaches the
client masked, with a code and the request id, and the operator's log gets the traceback."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from events_gateway.graph import ErrorCode
from events_gateway.server.negotiation import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON
from events_gateway.server.response import response_body, status_for


def escaped(message: str) -> GraphQLError:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return GraphQLError(str(exc), original_error=exc)


def test_an_escaped_exception_is_masked_coded_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    result = PreExecutionError(data=None, errors=[escaped("secret internals at /srv/app")])
    with caplog.at_level(logging.ERROR, logger="events_gateway.server"):
        body = response_body(result, request_id="req-9")
    assert body == {
        "errors": [
            {
                "message": ErrorCode.INTERNAL_SERVER_ERROR.message,
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-9"},
            }
        ]
    }
    assert status_for(body, GRAPHQL_RESPONSE_JSON) == 500
    assert status_for(body, APPLICATION_JSON) == 200
    [record] = caplog.records
    assert "req-9" in record.getMessage()
    assert record.exc_info is not None
    assert "secret internals" in str(record.exc_info[1])


def test_a_field_error_without_a_code_is_masked_but_keeps_its_path() -> None:
    """graphql-core's own field errors (a resolver returning what the schema forbids) are our bugs."""
    error = GraphQLError("Cannot return null for non-nullable field Query.x.", path=["x"])
    body = response_body(ExecutionResult(data=None, errors=[error]), request_id="req-1")
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": ErrorCode.INTERNAL_SERVER_ERROR.message,
            "path": ["x"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"},
        }
    ]
    assert status_for(body, GRAPHQL_RESPONSE_JSON) == 200


def test_coded_errors_pass_untouched() -> None:
    error = GraphQLError("No event has the id 'x'.", path=["event"], extensions={"code": "NOT_FOUND"})
    body = response_body(ExecutionResult(data={"event": None}, errors=[error]), request_id="r")
    assert body == {"data": {"event": None}, "errors": [error.formatted]}
