"""Helpers for the live-query tests: a raw ``graphql-transport-ws`` socket, metrics, waiting for a figure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp
import httpx
from prometheus_client.parser import text_string_to_metric_families

from events_gateway.emulator import DEMO_API_KEY
from events_gateway.server import DEMO_QUERY

from ..conftest import eventually

PROTOCOL = "graphql-transport-ws"
DEMO_AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}
#: The README's nested tree, as a live query.
TREE = DEMO_QUERY.replace("query ", "subscription ", 1)
#: Seconds any single wait may take before a test gives up (a bound on a hang, not a timing claim).
PATIENCE = 20.0


def ws_url(gateway: str) -> str:
    return gateway.replace("http://", "ws://", 1) + "/graphql"


async def metric(http: httpx.AsyncClient, gateway: str, name: str, **labels: str) -> float:
    """Sum of ``name`` over the samples of ``/metrics`` whose labels include ``labels``."""
    response = await http.get(f"{gateway}/metrics")
    wanted = set(labels.items())
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name and wanted <= set(sample.labels.items())
    )


async def wait_for_metric(
    http: httpx.AsyncClient, gateway: str, name: str, test: Callable[[float], bool], **labels: str
) -> float:
    """Until ``test`` holds for the metric's value; the value."""
    value = 0.0

    async def holds() -> bool:
        nonlocal value
        value = await metric(http, gateway, name, **labels)
        return test(value)

    await eventually(holds, f"{name}{labels}")
    return value


class RawSocket:
    """One ``graphql-transport-ws`` connection spoken by hand, for what a client library hides: close
    codes, pings, refusals.

    Example::

        async with RawSocket(gateway) as socket:
            await socket.init({"Authorization": "Bearer …"})
            await socket.subscribe("1", "subscription { eventCategories { totalCount } }")
            message = await socket.receive()       # {"id": "1", "type": "next", "payload": {...}}
    """

    def __init__(self, gateway: str, *, headers: dict[str, str] | None = None) -> None:
        self._url = ws_url(gateway)
        self._headers = headers or {}
        self._session = aiohttp.ClientSession()
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> RawSocket:
        try:
            self.ws = await self._session.ws_connect(
                self._url, protocols=[PROTOCOL], headers=self._headers, autoping=True
            )
        except BaseException:
            await self._session.close()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self._session.close()

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send ``connection_init``; the answer (``connection_ack``), or fail if the socket closed."""
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def receive(self) -> dict[str, Any]:
        """The next text message, as JSON; raises ``ConnectionError`` with the close code on a close."""
        assert self.ws is not None
        async with asyncio.timeout(PATIENCE):
            message = await self.ws.receive()
        if message.type == aiohttp.WSMsgType.TEXT:
            received: dict[str, Any] = json.loads(message.data)
            return received
        raise ConnectionError(self.ws.close_code, message.extra)

    async def closed(self) -> tuple[int | None, str]:
        """Read until the server closes; its close code and reason (messages before it are dropped)."""
        assert self.ws is not None
        async with asyncio.timeout(PATIENCE):
            while True:
                message = await self.ws.receive()
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    return self.ws.close_code, str(message.extra or "")
