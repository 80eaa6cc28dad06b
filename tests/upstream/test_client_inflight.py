"""A session sends an identical GET once while it is in flight, and only while it is in flight.

Counted on both ends: the requests the client's transport saw, and the requests the emulator received.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.upstream import (
    UpstreamCall,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    UpstreamUnavailable,
    default_transport,
)

CATEGORIES = "GET /event/category"


async def arrived(admin: EmulatorAdmin, route: str = CATEGORIES) -> int:
    return int((await admin.stats())["by_route"].get(route, 0))


async def test_identical_gets_at_once_make_one_call(
    session: UpstreamSession,
    recorded: list[httpx.Request],
    calls: list[UpstreamCall],
    emulator_admin: EmulatorAdmin,
) -> None:
    await emulator_admin.reset()
    first, second, third = await asyncio.gather(
        session.list_event_categories(), session.list_event_categories(), session.list_event_categories()
    )
    assert first.results
    assert first == second == third
    assert first.results is not second.results  # each caller reads its own copy of the body
    assert len(recorded) == 1
    assert len(calls) == 1  # the observer sees the one real exchange
    assert await arrived(emulator_admin) == 1


async def test_different_urls_are_not_shared(
    session: UpstreamSession, recorded: list[httpx.Request], emulator_admin: EmulatorAdmin
) -> None:
    await emulator_admin.reset()
    await asyncio.gather(session.list_event_categories(), session.list_event_categories(page=2))
    assert len(recorded) == 2
    assert await arrived(emulator_admin) == 2


async def test_a_failure_reaches_every_waiter(
    session: UpstreamSession, recorded: list[httpx.Request], emulator_admin: EmulatorAdmin
) -> None:
    await emulator_admin.configure(fault_rate=1.0, faults=["500"])
    await emulator_admin.reset()
    outcomes = await asyncio.gather(
        session.list_event_categories(), session.list_event_categories(), return_exceptions=True
    )
    assert [type(outcome) for outcome in outcomes] == [UpstreamUnavailable, UpstreamUnavailable]
    assert len(recorded) == 1
    assert await arrived(emulator_admin) == 1


async def test_nothing_is_kept_once_the_answer_lands(
    session: UpstreamSession, recorded: list[httpx.Request], emulator_admin: EmulatorAdmin
) -> None:
    await emulator_admin.reset()
    await session.list_event_categories()
    created = await session.create_event_category(
        {"title": "Checkout", "integration": await _integration(session)}
    )
    after = await session.list_event_categories()
    assert created["id"] in {resource["id"] for resource in after.results}  # a fresh read, not a replay
    assert await arrived(emulator_admin) == 2


async def test_writes_are_never_shared(
    session: UpstreamSession, recorded: list[httpx.Request], emulator_admin: EmulatorAdmin
) -> None:
    integration = await _integration(session)
    await emulator_admin.reset()
    body = {"title": "Twice", "integration": integration}
    first, second = await asyncio.gather(
        session.create_event_category(body), session.create_event_category(body)
    )
    assert first["id"] != second["id"]
    assert await arrived(emulator_admin, "POST /event/category") == 2


async def test_sessions_never_share_a_call(
    client: UpstreamClient, recorded: list[httpx.Request], emulator_admin: EmulatorAdmin
) -> None:
    await emulator_admin.reset()
    one, other = client.session(DEMO_API_KEY), client.session(DEMO_API_KEY)
    await asyncio.gather(one.list_event_categories(), other.list_event_categories())
    assert len(recorded) == 2
    assert {request.headers["Authorization"] for request in recorded} == {f"Bearer {DEMO_API_KEY}"}
    assert await arrived(emulator_admin) == 2


async def test_keys_never_share_a_call(
    client: UpstreamClient, recorded: list[httpx.Request], emulator_admin: EmulatorAdmin
) -> None:
    await emulator_admin.reset()
    outcomes = await asyncio.gather(
        client.session(DEMO_API_KEY).list_event_categories(),
        client.session("not-the-demo-key").list_event_categories(),
        return_exceptions=True,
    )
    assert not isinstance(outcomes[0], BaseException)
    assert outcomes[0].results
    assert isinstance(outcomes[1], Exception)  # the other key is refused, not served the demo's page
    assert len(recorded) == 2


async def test_one_waiter_leaving_does_not_cancel_the_others(
    held_client: tuple[UpstreamClient, _HeldWire], emulator_admin: EmulatorAdmin
) -> None:
    client, wire = held_client
    await emulator_admin.reset()
    session = client.session(DEMO_API_KEY)
    leaving = asyncio.ensure_future(session.list_event_categories())
    staying = asyncio.ensure_future(session.list_event_categories())
    await wire.arrived.wait()  # the one call is on the wire: both callers joined it before it started
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    wire.release.set()
    page = await staying
    assert leaving.cancelled()
    assert page.results
    assert (wire.sent, wire.cancelled) == (1, 0)
    assert await arrived(emulator_admin) == 1


async def test_the_call_is_dropped_when_every_waiter_has_left(
    held_client: tuple[UpstreamClient, _HeldWire],
) -> None:
    client, wire = held_client
    session = client.session(DEMO_API_KEY)
    waiters = [asyncio.ensure_future(session.list_event_categories()) for _ in range(2)]
    await wire.arrived.wait()
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await wire.dropped.wait()  # the last waiter's leaving cancels the shared call
    assert (wire.sent, wire.cancelled) == (1, 1)
    wire.release.set()
    assert (await session.list_event_categories()).results  # a new ask starts a new call
    assert wire.sent == 2


class _HeldWire(httpx.AsyncBaseTransport):
    """The default wire, holding each exchange until ``release`` is set, so a test knows where a call
    stands without sleeping: ``arrived`` once one reaches it, ``dropped`` once one is cancelled there."""

    def __init__(self) -> None:
        self.inner = default_transport(max_connections=4)
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.dropped = asyncio.Event()
        self.sent = 0
        self.cancelled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        self.arrived.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            self.dropped.set()
            raise
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def held_client(emulator: RunningEmulator) -> AsyncIterator[tuple[UpstreamClient, _HeldWire]]:
    """A client on the demo emulator whose wire holds every exchange until the test releases it."""
    wire = _HeldWire()
    client = UpstreamClient(UpstreamSettings(emulator.api_url), transport=wire)
    yield client, wire
    await client.aclose()


async def _integration(session: UpstreamSession) -> str:
    page = await session.list_integrations()
    return str(page.results[0]["id"])


@pytest.fixture(autouse=True)
async def _calm(emulator_admin: EmulatorAdmin) -> None:
    """Each test starts with no latency and no faults."""
    await emulator_admin.configure(latency_ms=0, fault_rate=0.0)
