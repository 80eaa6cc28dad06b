"""One WebSocket speaking ``graphql-transport-ws``: its key, its operations, its keep-alive.

- :class:`LiveConnection` is the connection as GraphQL sees it: the root value of every operation on it
  (it is the live source subscriptions watch through) and, until :class:`SocketOperations` swaps it out,
  their context. The key is read once, from ``connection_init``: its payload's ``Authorization`` (or
  ``authorization``, or either inside ``headers``), else the handshake's own headers, else the fallback
  key under the same origin rules as ``POST /graphql`` (``browser_safety.caller_key``): a page on
  another origin without its own key is closed with 4403 and gets nothing.
- :class:`SocketOperations` gives each operation on the connection a fresh ``GraphContext`` (its own
  loaders), as each HTTP request gets; the handler starts each operation with its own deadline and
  request record, and a write listener so that a mutation sent over the socket re-runs the live
  queries it changes, as one over HTTP does.
- :class:`LiveSocketHandler` is Strawberry's protocol handler plus a keep-alive (a ``ping`` every
  ``EVENTS_GATEWAY_LIVE_KEEPALIVE`` seconds; a peer that has not answered one by the next is closed with
  4408) and a
  per-connection bound whose refusal carries an ``extensions.code``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Final

from aiohttp import ClientConnectionResetError, web
from graphql import GraphQLError
from strawberry.aiohttp.views import AiohttpWebSocketAdapter
from strawberry.extensions import SchemaExtension
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import PongMessage, SubscribeMessage

from ..graph import ErrorCode, GraphContext, LiveEvent, LiveRequest, Write, make_context, write_listener
from ..live import LiveQueries
from ..observability import RequestRecord, request_scope
from ..settings import Settings
from ..upstream import deadline_scope
from .browser_safety import caller_key, parse_bearer
from .keys import CLIENT_KEY
from .request_id import ensure_request_id

__all__ = [
    "LiveConnection",
    "LiveSocketHandler",
    "SocketOperations",
    "TextSocketAdapter",
]

TOO_MANY_MESSAGE: Final = (
    "This connection already carries {limit} operations, the most the gateway allows one WebSocket "
    "(EVENTS_GATEWAY_LIVE_MAX_PER_CONNECTION); complete some, or open another connection."
)
#: graphql-ws's code for a peer that let a deadline pass; the reason says which one.
TIMEOUT_CLOSE: Final = 4408
KEEPALIVE_REASON: Final = "Keep-alive timeout"


class LiveConnection:
    """One WebSocket's key, and the live source and contexts its operations use.

    Strawberry fills ``connection_params`` with the ``connection_init`` payload before it asks the view
    to accept the connection; :meth:`authenticate` then settles the key.
    """

    def __init__(self, request: web.Request, *, live: LiveQueries, settings: Settings) -> None:
        self.request = request
        self.live = live
        self.settings = settings
        self.connection_params: dict[str, Any] | None = None
        self.api_key: str | None = None
        self.socket: web.WebSocketResponse | None = None
        self.handler: LiveSocketHandler | None = None

    def authenticate(self) -> None:
        """Settle the key (see the module docstring); raises ``RequestRefused`` (401) when a keyless
        page on another origin asks for the fallback key."""
        given = _authorization(self.connection_params or {})
        if given is not None:
            self.api_key = parse_bearer(given) if isinstance(given, str) else None
        else:
            self.api_key = caller_key(self.request, self.settings.api_key)

    def watch(self, request: LiveRequest) -> AsyncIterator[LiveEvent]:
        """A subscription on this connection joins the registry's live query under its key."""
        return self.live.watch(self.api_key, request)

    def written(self, write: Write) -> None:
        """A mutation on this connection wrote: re-run the live queries it may change."""
        self.live.written(self.api_key, write)

    def operation_tasks(self) -> list[asyncio.Task[Any]]:
        """The tasks of the operations running on this connection now."""
        if self.handler is None:
            return []
        return [op.task for op in self.handler.operations.values() if op.task is not None]

    async def close(self, code: int, message: str) -> None:
        if self.socket is not None:
            await self.socket.close(code=code, message=message.encode())

    def operation_context(self) -> GraphContext:
        """A fresh context for one operation, as each HTTP request gets."""
        return make_context(
            client=self.request.app[CLIENT_KEY],
            api_key=self.api_key,
            settings=self.settings,
            request_id=ensure_request_id(self.request),
        )


def _authorization(params: Mapping[str, Any]) -> object | None:
    """The ``Authorization`` value a ``connection_init`` payload carries, at its top level or in
    ``headers`` (clients spell it both ways); ``None`` when it carries none."""
    for holder in (params, params.get("headers")):
        if isinstance(holder, Mapping):
            for name in ("Authorization", "authorization"):
                if name in holder:
                    value: object = holder[name]
                    return value
    return None


class SocketOperations(SchemaExtension):
    """Over a WebSocket, each operation gets a fresh ``GraphContext`` (its own loaders and calls)."""

    def on_operation(self) -> Iterator[None]:
        connection = self.execution_context.context
        if isinstance(connection, LiveConnection):
            self.execution_context.context = connection.operation_context()
        yield


class TextSocketAdapter(AiohttpWebSocketAdapter):
    """Strawberry's aiohttp socket adapter, sending text frames: the view encodes JSON to bytes (orjson),
    which the adapter would send as binary frames, and ``graphql-transport-ws`` speaks text only."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_str(self.view.encode_json_string(message))
        except (RuntimeError, ClientConnectionResetError) as exc:
            raise WebSocketDisconnected from exc


class LiveSocketHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """Strawberry's ``graphql-transport-ws`` handler, with keep-alive pings and a coded operation bound.

    The view gives it ``keep_alive_interval`` (seconds) and ``operations_per_connection``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pinger: asyncio.Task[None] | None = None
        self._answered = True
        if isinstance(self.context, LiveConnection):
            self.context.handler = self

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._keep_alive(), name="events-gateway ws keep-alive")

    async def handle_pong(self, message: PongMessage) -> None:
        self._answered = True

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit: int = getattr(self.view, "operations_per_connection", 0)
        if (
            limit
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            code = ErrorCode.TOO_MANY_SUBSCRIPTIONS
            error = GraphQLError(TOO_MANY_MESSAGE.format(limit=limit), extensions={"code": code})
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        # The operation's task copies this context: its own record (not the connection's, which would
        # grow with every operation), the request budget from now, and who hears its writes.
        connection = self.context
        if not isinstance(connection, LiveConnection):
            await super().handle_subscribe(message)
            return
        with (
            request_scope(RequestRecord(ensure_request_id(connection.request))),
            deadline_scope(connection.settings.request_deadline),
            write_listener(connection.written),
        ):
            await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pinger
        await super().shutdown()

    async def _keep_alive(self) -> None:
        """A ``ping`` every interval; a peer that has not answered the previous one by then is closed."""
        interval = float(getattr(self.view, "keep_alive_interval", None) or 0)
        if interval <= 0:
            return
        with contextlib.suppress(WebSocketDisconnected):
            while True:
                await asyncio.sleep(interval)
                if not self._answered:
                    await self.websocket.close(code=TIMEOUT_CLOSE, reason=KEEPALIVE_REASON)
                    return
                self._answered = False
                await self.send_message({"type": "ping"})
