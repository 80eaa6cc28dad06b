"""Live queries on the wire: ``graphql-transport-ws`` on ``/graphql``, SSE on ``/graphql/stream``.

:class:`LiveView` is the ``/graphql`` view with two more ways in, each feeding the process's registry of
live queries (``events_gateway.live``):

- a WebSocket upgrade on ``/graphql`` speaks ``graphql-transport-ws`` (Apollo's ``GraphQLWsLink``, urql,
  ``gql``; see ``live_socket``); a page on another origin may open one only when it is listed in
  ``EVENTS_GATEWAY_CORS_ORIGINS`` (else 403 before the upgrade);
- ``GET|POST /graphql/stream`` with ``Accept: text/event-stream`` is the ``graphql-sse`` protocol's
  distinct-connections mode: one operation per request, each result an ``event: next`` whose data is
  the result's JSON, then ``event: complete``; the key and the origin rules are those of ``/graphql``.

Queries and mutations run over both as well, with the same answers. Every mutation, however it came,
reports its writes to the registry, which re-runs the live queries they change at once. At shutdown
every subscription is completed before its connection closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from functools import cached_property, partial
from typing import Any, Final, cast

import strawberry
from aiohttp import hdrs, web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.streaming import HTTPStreamTransport, SSETransport
from strawberry.http.websocket_origin import normalize_allowed_origins
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from ..graph import ErrorCode, write_listener
from ..live import LiveQueries, QueryRunner, RedisBus
from ..settings import Settings
from ..upstream import deadline_scope
from .browser_safety import caller_key
from .errors import RequestRefused, error_body
from .graphiql import ENDPOINT, GraphiQLPage
from .keys import CACHE_KEY, CLIENT_KEY, METRICS_KEY, REDIS_KEY
from .live_socket import LiveConnection, LiveSocketHandler, TextSocketAdapter
from .negotiation import APPLICATION_JSON
from .request_id import ensure_request_id
from .view import API_KEY, MEDIA_TYPE_KEY, GatewayView

__all__ = ["LIVE_KEY", "STREAM_ENDPOINT", "LiveView", "install_live"]

STREAM_ENDPOINT: Final = ENDPOINT + "/stream"
EVENT_STREAM: Final = "text/event-stream"
LIVE_KEY = web.AppKey("live_queries", LiveQueries)
#: The open WebSocket connections, closed after their subscriptions complete at shutdown.
CONNECTIONS_KEY: web.AppKey[set[LiveConnection]] = web.AppKey("live_connections")
_CONNECTION = web.RequestKey("live_connection", LiveConnection)
_STREAM = web.RequestKey("live_stream", bool)

NOT_EVENT_STREAM_MESSAGE: Final = (
    "/graphql/stream answers in Server-Sent Events only: send 'Accept: text/event-stream'."
)
FOREIGN_SOCKET_MESSAGE: Final = (
    "A page on this origin may not open a WebSocket to the gateway: list the origin in "
    "EVENTS_GATEWAY_CORS_ORIGINS."
)
#: The WebSocket close code of a server that is going down.
GOING_AWAY: Final = 1001


class LiveView(GatewayView):
    """``/graphql`` and ``/graphql/stream``: GraphQL over HTTP, WebSocket and SSE (module docstring)."""

    graphql_transport_ws_handler_class = LiveSocketHandler
    websocket_adapter_class = TextSocketAdapter  # type: ignore[assignment]  # Strawberry's own is typed so

    def __init__(self, schema: strawberry.Schema, *, settings: Settings, graphiql: GraphiQLPage | None):
        super().__init__(schema, settings=settings, graphiql=graphiql)
        self.protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL)
        self.connection_init_wait_timeout = timedelta(seconds=settings.live_init_timeout)
        self.keep_alive_interval = settings.live_keepalive
        self.allowed_origins = normalize_allowed_origins(settings.cors_origins)
        # LiveSocketHandler enforces this one, with an ``extensions.code`` on its refusal.
        self.max_subscriptions_per_connection = None
        self.operations_per_connection = settings.live_max_per_connection

    @cached_property
    def _stream_transport_map(self) -> dict[str, HTTPStreamTransport]:
        # Strawberry builds its transports with their default heartbeat; ours follows the setting.
        return {SSETransport.protocol: SSETransport(heartbeat_interval=self._settings.live_keepalive)}

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        if self.is_websocket_request(request):
            return await self._socket(request)
        if request.path == STREAM_ENDPOINT:
            return await self._stream(request)
        live = request.app[LIVE_KEY]
        with write_listener(lambda write: live.written(request.get(API_KEY), write)):
            return await super().__call__(request)

    async def get_root_value(self, request: web.Request) -> Any:
        connection = request.get(_CONNECTION)
        if connection is not None:
            return connection
        return request.app[LIVE_KEY].source(request.get(API_KEY))

    async def get_context(self, request: web.Request, response: Any) -> Any:
        connection = request.get(_CONNECTION)
        if connection is None:
            return await super().get_context(request, response)
        connection.socket = response
        return connection  # each operation gets its own context (live_socket.SocketOperations)

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        if isinstance(context, LiveConnection):
            try:
                context.authenticate()
            except RequestRefused:
                raise ConnectionRejectionError() from None
        accepted: UnsetType = UNSET  # Strawberry's "acknowledge without a payload"
        return accepted

    async def reject_websocket(self, request: web.Request) -> web.Response:
        body = error_body(
            FOREIGN_SOCKET_MESSAGE, code=ErrorCode.FORBIDDEN, request_id=ensure_request_id(request)
        )
        return web.json_response(body, status=403)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        # A batch is refused on a stream (Strawberry says so); one operation is marked for SSE.
        stream = cast(web.Request, request.request).get(_STREAM)  # type: ignore[attr-defined]
        if stream and isinstance(data, GraphQLRequestData):
            data = replace(data, protocol=SSETransport.protocol)
        return data

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        connection = LiveConnection(request, live=request.app[LIVE_KEY], settings=self._settings)
        request[_CONNECTION] = connection
        connections = request.app[CONNECTIONS_KEY]
        connections.add(connection)
        try:
            return await self.run(request)
        finally:
            connections.discard(connection)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        try:
            request[MEDIA_TYPE_KEY] = APPLICATION_JSON  # for a refusal; results travel as events
            if not _accepts_event_stream(request.headers.get(hdrs.ACCEPT, "")):
                raise RequestRefused(406, ErrorCode.NOT_ACCEPTABLE, NOT_EVENT_STREAM_MESSAGE)
            if (key := caller_key(request, self._settings.api_key)) is not None:
                request[API_KEY] = key
            request[_STREAM] = True
            live = request.app[LIVE_KEY]
            # Queries over SSE get the request budget; a subscription's polls have their own.
            with (
                write_listener(partial(live.written, key)),
                deadline_scope(self._settings.request_deadline),
            ):
                return await self.run(request)
        except RequestRefused as refused:
            return self._refusal(request, refused)
        except HTTPException as exc:
            return self._refusal(request, self._refused_by_strawberry(request, exc))


def _accepts_event_stream(accept: str) -> bool:
    return any(part.split(";", 1)[0].strip().lower() == EVENT_STREAM for part in accept.split(","))


def install_live(
    app: web.Application, settings: Settings, schema: strawberry.Schema, *, cache_namespace: str
) -> None:
    """The registry of live queries (opened with the app, completed at shutdown) on ``app``; with Redis
    (``REDIS_KEY``, opened before it), shared with every replica through a ``RedisBus``."""
    app[CONNECTIONS_KEY] = set()

    async def live_queries(app: web.Application) -> AsyncIterator[None]:
        link = app.get(REDIS_KEY)
        bus = None
        if link is not None:
            bus = await RedisBus.open(link, secret=settings.cache_secret, cache_namespace=cache_namespace)
        metrics = app.get(METRICS_KEY)
        runner = QueryRunner(
            schema,
            app[CLIENT_KEY],
            settings,
            cache=app.get(CACHE_KEY),
        )
        app[LIVE_KEY] = LiveQueries(
            runner,
            interval=settings.live_interval,
            max_per_key=settings.live_max_per_key,
            observer=metrics,
            bus=bus,
        )
        try:
            yield
        finally:
            await app[LIVE_KEY].aclose()
            if bus is not None:
                await bus.aclose()

    async def complete_subscriptions(app: web.Application) -> None:
        """Every subscription completes (its client hears ``complete``), operations in flight end, then
        the sockets close with 1001 (going away): clients reconnect to another replica or later."""
        open_now: set[LiveConnection] = app[CONNECTIONS_KEY]
        connections = list(open_now)
        running = [task for connection in connections for task in connection.operation_tasks()]
        await app[LIVE_KEY].aclose()
        if running:
            await asyncio.wait(running, timeout=settings.request_deadline)
        for connection in connections:
            await connection.close(GOING_AWAY, "server shutting down")

    app.cleanup_ctx.append(live_queries)
    app.on_shutdown.append(complete_subscriptions)
