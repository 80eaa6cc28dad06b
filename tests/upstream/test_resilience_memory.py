"""Answers and retries leave nothing for the cycle collector: an upstream body is freed with its last reader.

The gateway's cycle collector runs seldom (``cli.GC_THRESHOLDS``), and objects of slow requests reach its
oldest generation, where cyclic garbage waits for minutes. So the exchange must create no cycle that holds
a response: each test turns the collector off and checks, with weak references, that what it dropped is
gone at once.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import httpx
import orjson
import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.upstream import UpstreamClient, UpstreamSettings, default_transport
from events_gateway.upstream.resilience import ResilientTransport, RetryPolicy

from .conftest import FakeTime


class WeakRecorder(httpx.AsyncBaseTransport):
    """Passes every exchange on, keeping only a weak reference to each response."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.responses: list[weakref.ref[httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.responses.append(weakref.ref(response))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_cycle_collector")
async def test_a_read_answer_is_freed_without_the_cycle_collector(
    emulator: RunningEmulator, emulator_admin: EmulatorAdmin, clock: FakeTime
) -> None:
    recorder = WeakRecorder(default_transport(max_connections=10))
    transport = ResilientTransport(recorder, RetryPolicy(), decode=orjson.loads, sleep=clock.sleep)
    client = UpstreamClient(UpstreamSettings(emulator.api_url), transport=transport)
    try:
        await emulator_admin.configure(fail_next=["500", "malformed"])
        page = await client.session(DEMO_API_KEY).list_event_categories()
        assert page.results
        assert len(recorder.responses) == 3  # two faults asked again, then the answer
        for _ in range(3):  # let the loop run the callbacks still due (a shared GET's shield)
            await asyncio.sleep(0)
        assert [ref() for ref in recorder.responses] == [None, None, None]
    finally:
        await client.aclose()


@pytest.mark.usefixtures("no_cycle_collector")
async def test_a_retry_after_a_transport_error_keeps_nothing_alive(
    emulator: RunningEmulator, clock: FakeTime
) -> None:
    class FailOnce(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = default_transport(max_connections=10)
            self.failed = False

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if not self.failed:
                self.failed = True
                raise httpx.ReadError("dropped", request=request)
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    transport = ResilientTransport(FailOnce(), RetryPolicy(), sleep=clock.sleep)
    try:
        request = httpx.Request("GET", f"{emulator.api_url}/healthcheck/")
        response = await transport.handle_async_request(request)
        assert response.status_code == 200
        answer = weakref.ref(response)
        del response
        assert answer() is None  # no frame of the retry loop, held by the error it caught, keeps it
    finally:
        await transport.aclose()
