"""``GracefulStop``: a stop stops accepting, answers what it had accepted, then finishes what is in flight.

Each test holds raw connections to a real aiohttp server on a loopback port, so it decides exactly when
a request is sent relative to the stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from aiohttp import web

from events_gateway.server import GracefulStop

#: Generous bound on any one wait; only there so a broken build fails instead of hanging.
WAIT = 60.0
#: The stops' own timeout: far longer than any test, so no test depends on the machine's speed.
SHUTDOWN_TIMEOUT = 3600.0
HOST = "127.0.0.1"


@dataclass
class Served:
    runner: web.AppRunner
    graceful: GracefulStop
    port: int
    entered: asyncio.Event
    release: asyncio.Event

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(HOST, self.port)

    async def all_accepted(self) -> None:
        """Once this returns, every connection opened before has been accepted: the server accepts in
        the order connections came, and this one's answer comes after it accepted it."""
        reader, writer = await self.connect()
        await send(writer, "/")
        await response(reader)
        writer.close()

    async def stop(self, *, linger: float = 0.0) -> asyncio.Task[None]:
        """The stop, started; returned once the server no longer accepts."""
        stopping = asyncio.create_task(self.graceful.stop(self.runner, SHUTDOWN_TIMEOUT, linger=linger))
        await asyncio.sleep(0)  # its first step, stopping the sites, waits on nothing
        with pytest.raises(ConnectionRefusedError):
            await self.connect()
        return stopping


@asynccontextmanager
async def served() -> AsyncIterator[Served]:
    """``GET /`` answers at once; ``GET /held`` answers once ``release`` is set."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text="quick")

    async def held(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="held")

    app = web.Application()
    app.router.add_get("/", quick)
    app.router.add_get("/held", held)
    graceful = GracefulStop(app)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    try:
        yield Served(runner, graceful, runner.addresses[0][1], entered, release)
    finally:
        release.set()
        await runner.cleanup()


async def send(writer: asyncio.StreamWriter, path: str) -> None:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    await writer.drain()


async def response(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], str]:
    """The status line, the headers (names lowercased) and the body of one response."""
    async with asyncio.timeout(WAIT):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        status, *lines = head.strip().split("\r\n")
        headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
        body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body.decode()


async def closed(reader: asyncio.StreamReader) -> bool:
    async with asyncio.timeout(WAIT):
        return await reader.read() == b""


async def test_a_connection_accepted_before_the_stop_is_answered_after_it() -> None:
    async with served() as server:
        reader, writer = await server.connect()  # and nothing sent on it yet
        await server.all_accepted()
        stopping = await server.stop()
        assert not stopping.done()  # it waits for the connection it accepted

        await send(writer, "/")
        status, headers, body = await response(reader)
        assert (status, body) == ("HTTP/1.1 200 OK", "quick")
        assert headers["connection"] == "close"
        assert await closed(reader)
        await asyncio.wait_for(stopping, WAIT)
        writer.close()


async def test_a_request_in_flight_finishes_after_the_server_stopped_accepting() -> None:
    async with served() as server:
        reader, writer = await server.connect()
        await send(writer, "/held")
        await asyncio.wait_for(server.entered.wait(), WAIT)
        stopping = await server.stop()

        server.release.set()
        status, headers, body = await response(reader)
        assert (status, body) == ("HTTP/1.1 200 OK", "held")
        assert headers["connection"] == "close"
        await asyncio.wait_for(stopping, WAIT)
        writer.close()


async def test_a_keep_alive_connection_that_asks_while_the_stop_lingers_is_answered() -> None:
    async with served() as server:
        reader, writer = await server.connect()
        await send(writer, "/")
        _, headers, _ = await response(reader)
        assert "connection" not in headers  # kept alive while serving
        stopping = await server.stop(linger=SHUTDOWN_TIMEOUT)
        assert not stopping.done()  # it lingers for the connection still open

        await send(writer, "/")
        status, headers, body = await response(reader)
        assert (status, body) == ("HTTP/1.1 200 OK", "quick")
        assert headers["connection"] == "close"
        assert await closed(reader)
        await asyncio.wait_for(stopping, WAIT)  # no connection left to linger for
        writer.close()


async def test_an_idle_keep_alive_connection_is_closed_once_the_stop_no_longer_lingers() -> None:
    async with served() as server:
        reader, writer = await server.connect()
        await send(writer, "/")
        await response(reader)

        stopping = await server.stop(linger=0.0)
        await asyncio.wait_for(stopping, WAIT)  # not SHUTDOWN_TIMEOUT: it was answered already
        assert await closed(reader)
        writer.close()
