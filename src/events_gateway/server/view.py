"""``/graphql``: Strawberry's aiohttp view, held to GraphQL over HTTP, given the caller's key and request id.

The key comes from ``Authorization: Bearer <key>``, else the configured fallback key when the request
comes from no other origin (``browser_safety``: 401 when it does), else none (the graph layer then
answers ``UNAUTHENTICATED``). What the GraphQL-over-HTTP spec asks of the endpoint is spread over small
modules, each wired in through one of Strawberry's hooks here:

- ``negotiation``: the response media type from ``Accept`` (406 when none fits), the body's type (415);
- ``request``: the request parameters, strictly read (400 for anything malformed);
- ``response``: ``data`` only when execution started, a code on every error, the status code;
- ``operation_cache``: a repeated query answered from the cache of whole results, without executing;
- ``caching``: ``Vary``, ``Cache-Control: private, max-age=…``, ``ETag`` and ``304`` on GET answers.

A batch (a JSON array of operations on POST) is answered with an array in the same order, always with
200: each operation's errors stay in its own entry. Its operations share one context, so one set of
loaders (an object two of them need is fetched once, and lookups of several batch into one call) and one
cost budget. Queries run concurrently; a mutation runs alone, after the operations before it and before
those after it, so the batch reads and writes in the order it was written (docs/http.md).

Queries are allowed over GET so that browsers can cache them (privately: every answer is one caller's);
a mutation over GET is refused with 405 before anything runs. Every refusal is a GraphQL-shaped body
with an ``extensions.code`` (see ``errors``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import orjson
import strawberry
from aiohttp import hdrs, web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult

from ..cache import KeyHash
from ..graph import ErrorCode, GraphContext, make_context
from ..settings import Settings
from ..upstream import deadline_scope
from .browser_safety import caller_key
from .caching import add_cache_headers
from .errors import RequestRefused, error_body
from .graphiql import GraphiQLPage, opens_graphiql
from .keys import CACHE_KEY, CLIENT_KEY
from .negotiation import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    check_request_body_type,
    response_media_type,
)
from .operation_cache import OperationCacheView, reads_through, selects_mutation
from .persisted_queries import PersistedQueriesView
from .request import parameters_from_body, parameters_from_query_string
from .request_id import ensure_request_id
from .response import response_body, status_for

#: The media type chosen for this request's answer (absent while the GraphiQL page is being served).
MEDIA_TYPE_KEY = web.RequestKey("media_type", str)
#: The key this request runs with (absent while the GraphiQL page is being served, and when it has none).
API_KEY = web.RequestKey("api_key", str)

MISSING_QUERY_MESSAGE = "The request has no 'query': send the GraphQL document as the 'query' parameter."
TOO_LARGE_MESSAGE = "The request body is over {limit} bytes, more than this server accepts."


class GatewayView(PersistedQueriesView, OperationCacheView):
    """The GraphQL endpoint: one context per request, GraphQL over HTTP at the edges, our own GraphiQL.

    A persisted query's hash is resolved to its document first, then the operation cache answers it
    when it may (``PersistedQueriesView`` comes before ``OperationCacheView`` in the method order)."""

    def __init__(self, schema: strawberry.Schema, *, settings: Settings, graphiql: GraphiQLPage | None):
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql is not None else None,
            allow_queries_via_get=True,
            subscription_protocols=(),
            multipart_uploads_enabled=False,
        )
        self._settings = settings
        self._graphiql = graphiql

    async def get_context(self, request: web.Request, response: Any) -> GraphContext:
        return make_context(
            client=request.app[CLIENT_KEY],
            api_key=request.get(API_KEY),
            settings=self._settings,
            request_id=ensure_request_id(request),
            cache=request.app.get(CACHE_KEY),
            read_through=reads_through(request.headers),
        )

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """Strawberry's rule (a browser's GET without a query), and a browser opening a shared link."""
        if self._graphiql is not None and opens_graphiql(
            request.method, request.query_params, request.headers
        ):
            return True
        return super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        if self._graphiql is None:  # Strawberry only calls this when an IDE is configured
            raise web.HTTPNotFound()
        return self._graphiql.render()

    async def get_sub_response(self, request: web.Request) -> web.Response:
        return web.Response(content_type=request.get(MEDIA_TYPE_KEY, GRAPHQL_RESPONSE_JSON), charset="utf-8")

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == hdrs.METH_GET:
            return parameters_from_query_string(request.query_params)
        check_request_body_type(request.headers.get(hdrs.CONTENT_TYPE))
        try:
            body = await request.get_body()
        except web.HTTPRequestEntityTooLarge:
            limit = cast(web.Request, request.request).client_max_size  # type: ignore[attr-defined]
            raise RequestRefused(
                413, ErrorCode.PAYLOAD_TOO_LARGE, TOO_LARGE_MESSAGE.format(limit=limit)
            ) from None
        return parameters_from_body(body, max_batch=self._settings.max_batch)

    async def execute_operation(
        self,
        request: web.Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: GraphContext,
        root_value: None,
        sub_response: web.Response,
    ) -> Any:
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        context.batched = True
        results: list[ExecutionResult | None] = [None] * len(request_data)

        async def run(index: int) -> None:
            results[index] = await self._execute_in_batch(
                request, request_adapter, sub_response, context, request_data[index]
            )

        async def run_together(indices: list[int]) -> None:
            async with asyncio.TaskGroup() as group:
                for index in indices:
                    group.create_task(run(index))

        try:
            queries: list[int] = []
            for index, operation in enumerate(request_data):
                if await self._is_mutation(operation):
                    await run_together(queries)
                    queries = []
                    await run(index)
                else:
                    queries.append(index)
            await run_together(queries)
        finally:
            context.loaders.release()
        return results

    async def _execute_in_batch(
        self,
        request: web.Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: web.Response,
        context: GraphContext,
        operation: GraphQLRequestData,
    ) -> ExecutionResult:
        """One operation of a batch; a refusal of it alone becomes its own entry's error."""
        try:
            return await self.execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=None,
                request_data=operation,
            )
        except HTTPException as exc:
            refused = self._refused_by_strawberry(request, exc)
            extensions = {"code": refused.code, "requestId": ensure_request_id(request)}
            return ExecutionResult(data=None, errors=[GraphQLError(refused.message, extensions=extensions)])

    async def _is_mutation(self, operation: GraphQLRequestData) -> bool:
        """Whether the operation a batch entry selects is a mutation (a persisted one included, read
        from the store by its hash); a document that does not parse is not, and fails on its own."""
        query = operation.query
        if query is None and self.persisted_queries is not None:
            persisted = (operation.extensions or {}).get("persistedQuery")
            sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
            if isinstance(sha, str):
                query = await self.persisted_queries.store.get(sha.lower())
        return query is not None and selects_mutation(
            query, operation.operation_name, max_tokens=self._settings.max_tokens
        )

    async def process_result(self, request: web.Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        return cast(GraphQLHTTPResponse, response_body(result, request_id=ensure_request_id(request)))

    def encode_json(self, data: object) -> bytes:
        """orjson: several times faster than the standard library on a large tree. Anything it cannot
        encode (an integer over 64 bits in a JSON scalar) goes through the standard library instead."""
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            return json.dumps(data, separators=(",", ":")).encode()

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: web.Response
    ) -> web.Response:
        sub_response.body = self.encode_json(response_data)
        if isinstance(response_data, dict):  # a batch is 200: its entries carry their own errors
            sub_response.set_status(status_for(dict(response_data), sub_response.content_type))
        return sub_response

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        response: web.StreamResponse
        try:
            if not self.should_render_graphql_ide(self.request_adapter_class(request)):
                request[MEDIA_TYPE_KEY] = response_media_type(request.headers.get(hdrs.ACCEPT))
                if (key := caller_key(request, self._settings.api_key)) is not None:
                    request[API_KEY] = key
            # One budget for the whole request: loader batches and page fetches run in tasks that copy
            # this context, so every upstream call it makes shares the deadline.
            with deadline_scope(self._settings.request_deadline):
                response = await self.run(request=request)
        except RequestRefused as refused:
            response = self._refusal(request, refused)
        except HTTPException as exc:
            response = self._refusal(request, self._refused_by_strawberry(request, exc))
        return add_cache_headers(
            request,
            response,
            fallback_key=self._settings.api_key is not None,
            key_hash=self._key_hash(request),
            ttl=self._settings.cache_ttl,
        )

    @staticmethod
    def _key_hash(request: web.Request) -> KeyHash | None:
        """The caller's key as the cache hashes it (for a GET's ``ETag``), when a key is in play."""
        cache, key = request.app.get(CACHE_KEY), request.get(API_KEY)
        if request.method != hdrs.METH_GET or cache is None or key is None:
            return None
        return cache.key_hash(key)

    def _refused_by_strawberry(self, request: web.Request, exc: HTTPException) -> RequestRefused:
        """Strawberry's refusals, given the status and code GraphQL over HTTP asks for."""
        cause = exc.__cause__
        if isinstance(cause, InvalidOperationTypeError) and request.method == hdrs.METH_GET:
            # "the server MUST respond with error status code 405 (Method Not Allowed) and halt execution"
            return RequestRefused(
                405, ErrorCode.METHOD_NOT_ALLOWED, exc.reason, headers={"Allow": hdrs.METH_POST}
            )
        if isinstance(cause, InvalidOperationTypeError | CannotGetOperationTypeError):
            # A GraphQL request error in a well-formed request: 200 under application/json, 400 otherwise.
            code = (
                ErrorCode.OPERATION_RESOLUTION_FAILURE
                if isinstance(cause, CannotGetOperationTypeError)
                else ErrorCode.GRAPHQL_VALIDATION_FAILED
            )
            status = 200 if request.get(MEDIA_TYPE_KEY) == APPLICATION_JSON else 400
            return RequestRefused(status, code, exc.reason)
        if isinstance(cause, MissingQueryError):
            return RequestRefused(400, ErrorCode.BAD_REQUEST, MISSING_QUERY_MESSAGE)
        if exc.status_code == 404:
            return RequestRefused(404, ErrorCode.NOT_FOUND, exc.reason)
        if exc.status_code == 405:
            return RequestRefused(
                405, ErrorCode.METHOD_NOT_ALLOWED, exc.reason, headers={"Allow": "GET, POST"}
            )
        return RequestRefused(400, ErrorCode.BAD_REQUEST, exc.reason)

    def _refusal(self, request: web.Request, refused: RequestRefused) -> web.Response:
        body = error_body(refused.message, code=refused.code, request_id=ensure_request_id(request))
        return web.json_response(
            body,
            status=refused.status,
            headers=refused.headers,
            content_type=request.get(MEDIA_TYPE_KEY, APPLICATION_JSON),
        )
