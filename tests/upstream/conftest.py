"""Fixtures for the upstream client's tests: a client on the real emulator, and small servers of our own.

- ``client`` / ``session`` / ``calls``: an ``UpstreamClient`` on the ``emulator`` fixture, a demo-key
  session whose observer appends every ``UpstreamCall`` to ``calls``.
- ``recorded``: the ``httpx.Request`` objects that client sent (a pass-through transport wrapped around
  the real one, so the exchange still crosses loopback).
- ``clock``: a :class:`FakeTime` whose ``sleep`` and ``monotonic`` a resilient transport, a breaker or a
  deadline can be given, so waits are recorded instead of slept.
- ``odd_upstream``: ``await odd_upstream(handler)`` serves one aiohttp handler for every path on
  127.0.0.1:0 and returns its ``/api/v1`` root, for envelope oddities the emulator never produces.
- ``raw_server(handle)``: a bare TCP server on 127.0.0.1:0 for what no HTTP server does on purpose (hang
  up, garble the status line); ``free_port()``: a port with no listener, for refused connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from aiohttp import web

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.upstream import (
    UpstreamCall,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    default_transport,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OddUpstream = Callable[[Handler], Awaitable[str]]
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes every request on to the real transport, keeping a copy to assert on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def recorder() -> RecordingTransport:
    return RecordingTransport(default_transport(max_connections=10))


@pytest.fixture
def recorded(recorder: RecordingTransport) -> list[httpx.Request]:
    return recorder.requests


@pytest.fixture
async def client(emulator: RunningEmulator, recorder: RecordingTransport) -> AsyncIterator[UpstreamClient]:
    upstream = UpstreamClient(UpstreamSettings(emulator.api_url), transport=recorder)
    yield upstream
    await upstream.aclose()


@pytest.fixture
def calls() -> list[UpstreamCall]:
    return []


@pytest.fixture
def session(client: UpstreamClient, calls: list[UpstreamCall]) -> UpstreamSession:
    return client.session(DEMO_API_KEY, observer=calls.append)


@pytest.fixture
async def odd_upstream() -> AsyncIterator[OddUpstream]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"

    yield start
    for runner in runners:
        await runner.cleanup()


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def free_port() -> int:
    """A port that was free a moment ago and has no listener."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def raw_server(handle: RawHandler) -> AsyncIterator[str]:
    """Serve ``handle`` per connection on 127.0.0.1:0; yields ``http://127.0.0.1:<port>``."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()
