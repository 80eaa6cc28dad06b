"""``/graphql``: Strawberry's aiohttp view, given the caller's key and request id, and our GraphiQL page.

The key comes from ``Authorization: Bearer <key>``, else the configured fallback key, else none (the
graph layer then answers ``UNAUTHENTICATED``). Queries are allowed over GET so that CDNs can cache them;
a mutation over GET is refused with 405, as the GraphQL-over-HTTP spec asks, before anything runs.
"""

from __future__ import annotations

from typing import Any

import strawberry
from aiohttp import web
from cross_web import HTTPException
from strawberry.aiohttp.views import GraphQLView
from strawberry.schema.exceptions import InvalidOperationTypeError

from ..graph import GraphContext, make_context
from ..settings import Settings
from .errors import error_body
from .graphiql import GraphiQLPage
from .keys import CLIENT_KEY
from .request_id import ensure_request_id


def bearer_key(request: web.Request) -> str | None:
    """The key of ``Authorization: Bearer <key>`` (scheme case-insensitive), or ``None``."""
    scheme, _, key = request.headers.get("Authorization", "").strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return key


class GatewayView(GraphQLView[GraphContext, None]):
    """The GraphQL endpoint: one context per request, JSON error bodies, our own GraphiQL."""

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
            api_key=bearer_key(request) or self._settings.api_key,
            settings=self._settings,
            request_id=ensure_request_id(request),
        )

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        if self._graphiql is None:  # Strawberry only calls this when an IDE is configured
            raise web.HTTPNotFound()
        return self._graphiql.render()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self.run(request=request)
        except HTTPException as exc:
            status, reason, headers = exc.status_code, exc.reason, {}
            if isinstance(exc.__cause__, InvalidOperationTypeError) and request.method == "GET":
                # GraphQL over HTTP: "the server MUST respond with error status code 405".
                status, headers = 405, {"Allow": "POST"}
            code = "METHOD_NOT_ALLOWED" if status == 405 else "NOT_FOUND" if status == 404 else "BAD_REQUEST"
            body = error_body(reason, code=code, request_id=ensure_request_id(request))
            return web.json_response(body, status=status, headers=headers)
