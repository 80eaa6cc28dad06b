"""The resilient transport under the real upstream client, against the emulator's injected faults.

This is the wiring the gateway runs: ``UpstreamClient`` over ``ResilientTransport`` over the default
aiohttp transport, talking to the emulator on loopback. The emulator's own counters say how many
requests really arrived, and the client's exception boundary turns the transport's refusals into the
gateway's errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import orjson
import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.upstream import (
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    UpstreamTimeout,
    UpstreamUnavailable,
    default_transport,
)
from events_gateway.upstream.resilience import (
    BreakerPolicy,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    DeadlineExceeded,
    ResilientTransport,
    RetryPolicy,
    deadline_scope,
)

from .conftest import FakeTime

SessionFactory = Callable[..., UpstreamSession]


@pytest.fixture
async def resilient(
    emulator: RunningEmulator, clock: FakeTime
) -> AsyncIterator[tuple[SessionFactory, FakeTime]]:
    """``make(policy, breaker)``: a demo-key session on the emulator through a resilient transport, wired
    as ``UpstreamClient`` wires its own (bodies decoded inside the attempt), with the fake clock."""
    clients: list[UpstreamClient] = []

    def make(policy: RetryPolicy, breaker: CircuitBreaker | None = None) -> UpstreamSession:
        transport = ResilientTransport(
            default_transport(max_connections=10), policy, breaker, decode=orjson.loads, sleep=clock.sleep
        )
        client = UpstreamClient(UpstreamSettings(emulator.api_url), transport=transport)
        clients.append(client)
        return client.session(DEMO_API_KEY)

    yield make, clock
    for client in clients:
        await client.aclose()


async def api_requests(admin: EmulatorAdmin) -> int:
    return int((await admin.stats())["total"])


async def test_reads_ride_out_injected_faults(
    resilient: tuple[SessionFactory, FakeTime], emulator_admin: EmulatorAdmin
) -> None:
    make, clock = resilient
    session = make(RetryPolicy(max_attempts=10))
    await emulator_admin.configure(fault_rate=0.5, faults=["503", "429"], fault_seed=7)
    await emulator_admin.reset()
    for _ in range(10):
        page = await session.list_event_categories()
        assert page.results
    arrived = await api_requests(emulator_admin)
    assert arrived > 10  # some reads met a fault and were asked again
    assert len(clock.sleeps) == arrived - 10


@pytest.mark.parametrize("fault", ["500", "malformed"])
async def test_a_read_rides_out_one_transient_fault(
    resilient: tuple[SessionFactory, FakeTime], emulator_admin: EmulatorAdmin, fault: str
) -> None:
    make, clock = resilient
    session = make(RetryPolicy(max_attempts=3))
    clean = await session.list_event_categories()
    await emulator_admin.reset()
    await emulator_admin.configure(fail_next=[fault])
    assert await session.list_event_categories() == clean
    statuses = [call["status"] for call in (await emulator_admin.stats())["calls"]]
    assert statuses == [500 if fault == "500" else 200, 200]
    assert len(clock.sleeps) == 1


async def test_the_default_client_retries_a_truncated_body(
    emulator: RunningEmulator, emulator_admin: EmulatorAdmin
) -> None:
    """The stack ``UpstreamClient`` builds for itself decodes inside the attempt (no transport passed)."""
    client = UpstreamClient(UpstreamSettings(emulator.api_url))
    try:
        session = client.session(DEMO_API_KEY)
        await emulator_admin.configure(fail_next=["malformed", "500"])
        await emulator_admin.reset()
        assert (await session.list_event_categories()).results
    finally:
        await client.aclose()
    assert await api_requests(emulator_admin) == 3


async def test_a_read_that_stays_unreadable_fails_as_unavailable(
    resilient: tuple[SessionFactory, FakeTime], emulator_admin: EmulatorAdmin
) -> None:
    make, _ = resilient
    session = make(RetryPolicy(max_attempts=2))
    await emulator_admin.configure(fail_next=["malformed", "malformed"])
    await emulator_admin.reset()
    with pytest.raises(UpstreamUnavailable) as failed:
        await session.list_event_categories()
    assert failed.value.status == 200
    assert await api_requests(emulator_admin) == 2


@pytest.mark.parametrize("fault", ["500", "503", "malformed"])
async def test_a_write_meets_a_fault_once(
    resilient: tuple[SessionFactory, FakeTime], emulator_admin: EmulatorAdmin, fault: str
) -> None:
    make, clock = resilient
    session = make(RetryPolicy(max_attempts=10))
    await emulator_admin.configure(fault_rate=1.0, faults=[fault])
    await emulator_admin.reset()
    with pytest.raises(UpstreamUnavailable):
        await session.create_event_category({"title": "Checkout"})
    assert await api_requests(emulator_admin) == 1
    assert clock.sleeps == []


async def test_the_breaker_fails_fast_through_the_client_and_recovers(
    resilient: tuple[SessionFactory, FakeTime], emulator_admin: EmulatorAdmin
) -> None:
    make, clock = resilient
    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=3, cooldown=10.0), clock=clock.monotonic)
    session = make(RetryPolicy(max_attempts=1), breaker)
    await emulator_admin.configure(fault_rate=1.0, faults=["500"])
    await emulator_admin.reset()
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await session.list_event_categories()
    with pytest.raises(UpstreamUnavailable) as refused:
        await session.list_event_categories()
    assert isinstance(refused.value.__cause__, CircuitOpen)
    assert await api_requests(emulator_admin) == 3  # the refused call never left the gateway

    await emulator_admin.configure(fault_rate=0.0)
    clock.now += 10.0
    assert (await session.list_event_categories()).results  # the probe
    assert set(breaker.states().values()) == {CircuitState.CLOSED}


async def test_a_stalled_upstream_ends_at_the_deadline_as_a_timeout(
    resilient: tuple[SessionFactory, FakeTime], emulator_admin: EmulatorAdmin
) -> None:
    make, clock = resilient
    session = make(RetryPolicy(max_attempts=5))
    await emulator_admin.configure(fault_rate=1.0, faults=["stall"], stall_seconds=30)
    await emulator_admin.reset()
    with deadline_scope(0.3), pytest.raises(UpstreamTimeout) as timed_out:
        await session.list_event_categories()
    assert isinstance(timed_out.value.__cause__, DeadlineExceeded)
    assert clock.sleeps == []  # no retry was begun once the budget was spent
