"""The GraphQL-over-HTTP request parameters, read strictly from a GET query string or a JSON POST body.

Strawberry's own reader lets some malformed requests through to a 500 (a body that is JSON but not an
object, bytes that are not UTF-8) and reads a non-string ``operationName`` as a name; here each of those
is a 400 ``BAD_REQUEST`` that says what to send instead. A JSON array is a batch (Apollo's
``BatchHttpLink``, graphql-request's ``batchRequests``): a list of such objects, at most ``max_batch`` of
them, each read as strictly; one malformed item refuses the whole request, naming the item.

``query`` may be absent at this stage (a persisted-query extension can supply it); Strawberry refuses a
request that still has none when it executes, and the view turns that into a 400 as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson
from strawberry.http import GraphQLRequestData

from ..graph import ErrorCode
from .errors import RequestRefused

NOT_JSON: Final = "The request body is not valid JSON (UTF-8): {detail}."
NOT_AN_OBJECT: Final = (
    "The request body must be a JSON object with a 'query' string "
    "(and optional 'operationName', 'variables' and 'extensions')."
)
EMPTY_BATCH: Final = "The batch (a JSON array of operations) is empty; send at least one operation."
BATCH_TOO_LARGE: Final = (
    "The batch holds {count} operations; the limit is {limit}. Send fewer operations per request."
)
IN_BATCH: Final = "Operation {index} of the batch: {message}"
NOT_A_STRING: Final = "The request parameter '{name}' must be a string when given."
NOT_A_MAP: Final = "The request parameter '{name}' must be a JSON object when given."
NOT_JSON_PARAMETER: Final = "The query parameter '{name}' must hold a JSON object: {detail}."
REPEATED_PARAMETER: Final = "The query parameter '{name}' is given more than once; give it once."

#: The parameters of a GraphQL-over-HTTP request; in a query string, the last two are JSON texts.
PARAMETERS: Final = ("query", "operationName", "variables", "extensions")


def refuse(message: str) -> RequestRefused:
    return RequestRefused(400, ErrorCode.BAD_REQUEST, message)


def parameters_from_body(body: bytes, *, max_batch: int) -> GraphQLRequestData | list[GraphQLRequestData]:
    """The parameters of a POST body (already known to be ``application/json``): one operation, or a
    batch of at most ``max_batch`` (items counted from 0 in messages)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise refuse(NOT_JSON.format(detail=exc.msg)) from None
    if not isinstance(data, list):
        return _operation(data)
    if not data:
        raise refuse(EMPTY_BATCH)
    if len(data) > max_batch:
        raise refuse(BATCH_TOO_LARGE.format(count=len(data), limit=max_batch))
    operations = []
    for index, item in enumerate(data):
        try:
            operations.append(_operation(item))
        except RequestRefused as refused:
            raise refuse(IN_BATCH.format(index=index, message=refused.message)) from None
    return operations


def _operation(data: object) -> GraphQLRequestData:
    if not isinstance(data, dict):
        raise refuse(NOT_AN_OBJECT)
    return _parameters(data)


def parameters_from_query_string(params: Mapping[str, Any]) -> GraphQLRequestData:
    """The parameters of a GET request; ``variables`` and ``extensions`` arrive as JSON texts.

    ``params`` is the request's multidict; a GraphQL parameter given twice is refused rather than guessed.
    """
    getall = getattr(params, "getall", None)
    data: dict[str, object] = {}
    for name in PARAMETERS:
        values = getall(name, []) if getall is not None else ([params[name]] if name in params else [])
        if len(values) > 1:
            raise refuse(REPEATED_PARAMETER.format(name=name))
        if not values or values[0] == "":
            continue  # the spec: an empty operationName is an absent one; likewise for the others
        value = values[0]
        if name in ("variables", "extensions"):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise refuse(NOT_JSON_PARAMETER.format(name=name, detail=exc.msg)) from None
        data[name] = value
    return _parameters(data)


def _parameters(data: Mapping[str, object]) -> GraphQLRequestData:
    return GraphQLRequestData(
        query=_string(data, "query"),
        operation_name=_string(data, "operationName") or None,  # "" means absent, as the spec says for GET
        variables=_map(data, "variables"),
        extensions=_map(data, "extensions"),
    )


def _string(data: Mapping[str, object], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise refuse(NOT_A_STRING.format(name=name))


def _map(data: Mapping[str, object], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise refuse(NOT_A_MAP.format(name=name))
