"""A finished request, failed fields included, leaves nothing for the cycle collector to find.

The gateway's cycle collector runs seldom, and the objects of a slow request (a stall, a retry) reach its
oldest generation, where cyclic garbage waits for minutes: under sustained upstream faults that held
finished requests by the hundred. Errors keep no traceback once translated, and graphql-core's execution
context lets go of itself once the answer is built; the tests check both with the collector off.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar

import pytest

from events_gateway.emulator import EmulatorAdmin, RunningEmulator
from events_gateway.graph.execution import FastExecutionContext
from events_gateway.upstream import UpstreamClient, UpstreamSettings
from events_gateway.upstream.resilience import RetryPolicy

#: ``gateway_for`` of ``conftest.py`` (not a package here, so its alias is restated).
GatewayFor = Callable[..., Any]
TREE = "{ eventCategories { nodes { id events { nodes { id properties { nodes { id } } } } } } }"


class TrackedContext(FastExecutionContext):
    """The gateway's execution context, remembering (weakly) every instance made."""

    made: ClassVar[list[weakref.ref[FastExecutionContext]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        TrackedContext.made.append(weakref.ref(self))


@pytest.fixture
async def unretried(emulator: RunningEmulator) -> AsyncIterator[UpstreamClient]:
    """A client that asks once, so each injected fault fails its field."""
    client = UpstreamClient(UpstreamSettings(emulator.api_url, retry=RetryPolicy(max_attempts=1)))
    yield client
    await client.aclose()


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def chain(error: BaseException | None) -> list[BaseException]:
    found: list[BaseException] = []
    while error is not None and error not in found:
        found.append(error)
        error = error.__cause__ or error.__context__
    return found


async def test_translated_errors_keep_no_traceback(
    gateway_for: GatewayFor,
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
    unretried: UpstreamClient,
) -> None:
    gateway = gateway_for(emulator, client=unretried)
    await emulator_admin.configure(fail_next=["500", "malformed"])
    first = await gateway.run(TREE)
    second = await gateway.run(TREE)
    errors = [*(first.errors or ()), *(second.errors or ())]
    assert {error.extensions["code"] for error in errors if error.extensions} == {"UPSTREAM_UNAVAILABLE"}
    for error in errors:
        assert error.original_error is not None
        for cause in chain(error.original_error):
            assert cause.__traceback__ is None, repr(cause)


@pytest.mark.usefixtures("no_cycle_collector")
async def test_requests_with_failed_fields_are_freed_without_the_cycle_collector(
    gateway_for: GatewayFor,
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
    unretried: UpstreamClient,
) -> None:
    gateway = gateway_for(emulator, client=unretried)
    gateway.schema.execution_context_class = TrackedContext
    TrackedContext.made.clear()
    await emulator_admin.configure(fault_rate=0.4, faults=["500", "malformed"], fault_seed=5)
    results = [await gateway.run(TREE) for _ in range(6)]
    gateway.contexts.clear()
    assert any(result.errors for result in results)  # fields failed, at one level or another
    assert any(result.data for result in results)
    del results
    for _ in range(3):  # callbacks still due on the loop hold the last futures for one more turn
        await asyncio.sleep(0)
    assert len(TrackedContext.made) == 6
    assert [ref() for ref in TrackedContext.made] == [None] * 6
