"""The registry of live queries and their poll loops, over the real schema and a real emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.graph.live import LiveEvent
from events_gateway.graph.writes import Write
from events_gateway.live import Mailbox, ShuttingDown, TooManySubscriptions, process_key_hasher

from ..conftest import retitle_upstream
from .conftest import PATIENCE, Live, LiveFor

EVENTS = "query Events { events(first: 3) { totalCount nodes { id title } } }"
CATEGORIES = "query Categories { eventCategories { totalCount } }"


async def next_event(events: AsyncIterator[LiveEvent]) -> LiveEvent:
    async with asyncio.timeout(PATIENCE):
        return await anext(events)


def first_event(event: LiveEvent) -> dict[str, Any]:
    assert event.result.data is not None
    node: dict[str, Any] = event.result.data["events"]["nodes"][0]
    return node


async def test_the_mailbox_keeps_the_latest_value_only_then_ends() -> None:
    box: Mailbox[int] = Mailbox()
    box.put(1)
    box.put(2)
    assert await box.get() == 2
    reader = asyncio.ensure_future(box.get())
    box.put(3)
    assert await reader == 3
    box.put(4)
    box.close()
    box.put(5)  # ignored once closed
    assert await box.get() == 4
    with pytest.raises(StopAsyncIteration):
        await box.get()


def test_the_key_hash_tells_keys_apart_and_hides_them() -> None:
    key_hash = process_key_hasher(b"secret")
    assert key_hash("a") == key_hash("a") != key_hash("b")
    assert "a" not in key_hash("a")
    assert process_key_hasher(b"other")("a") != key_hash("a")
    assert key_hash(None) == key_hash("") == "-"


async def test_subscribers_of_one_key_document_and_variables_share_one_live_query(live: Live) -> None:
    registry = live.registry
    same = [registry.watch(DEMO_API_KEY, live.request(EVENTS)) for _ in range(3)]
    other_variables = registry.watch(DEMO_API_KEY, live.request(EVENTS + " ", n=1))
    other_key = registry.watch("another-key", live.request(EVENTS))
    assert registry.queries == 3
    assert registry.subscriptions == 5
    assert live.observer.counts == (5, 3)
    for events in [*same, other_variables, other_key]:
        await events.aclose()  # type: ignore[attr-defined]
    assert (registry.queries, registry.subscriptions) == (0, 0)


async def test_a_late_subscriber_gets_the_latest_result_at_once(
    live_for: LiveFor, emulator: RunningEmulator
) -> None:
    live = live_for(emulator, interval=3600)
    early = live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    first = await next_event(early)
    late = live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    assert (await next_event(late)) is first
    assert live.observer.polls == [("first", True)]


async def test_unchanged_polls_deliver_nothing_and_a_change_is_delivered(
    live: Live, emulator: RunningEmulator
) -> None:
    events = live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    first = await next_event(events)
    await live.observer.until(lambda: len(live.observer.polls) >= 4)
    assert live.observer.polls[1:4] == [("interval", False)] * 3
    await retitle_upstream(emulator, first_event(first)["id"], "Changed upstream")
    second = await next_event(events)
    assert first_event(second)["title"] == "Changed upstream"
    assert len(live.observer.pushes) == 2


async def test_a_slow_subscriber_gets_the_latest_result_not_every_one_it_missed(
    live: Live, emulator: RunningEmulator
) -> None:
    events = live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    event_id = first_event(await next_event(events))["id"]
    for title in ("One", "Two", "Three"):
        await retitle_upstream(emulator, event_id, title)
        pushes = len(live.observer.pushes)
        await live.observer.until(lambda pushes=pushes: len(live.observer.pushes) > pushes)  # type: ignore[misc]
    # Three results were pushed while nobody read: the mailbox holds the last one alone.
    assert first_event(await next_event(events))["title"] == "Three"
    await live.observer.until(lambda: len(live.observer.polls) >= len(live.observer.pushes) + 3)
    reader = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    assert not reader.done()
    reader.cancel()


async def test_a_write_reruns_the_live_queries_of_its_key_that_read_its_kind(
    live_for: LiveFor, emulator: RunningEmulator
) -> None:
    live = live_for(emulator, interval=3600)
    registry = live.registry
    events = registry.watch(DEMO_API_KEY, live.request(EVENTS))
    categories = registry.watch(DEMO_API_KEY, live.request(CATEGORIES))
    other_key = registry.watch("another-key", live.request(EVENTS))
    for stream in (events, categories, other_key):
        await next_event(stream)
    assert sorted(live.observer.polls) == [("first", True)] * 3

    registry.written(DEMO_API_KEY, Write("updated", "event", "e1", "c1"))  # events only
    await live.observer.until(lambda: len(live.observer.polls) == 4)
    registry.written(DEMO_API_KEY, Write("created", "event_property", "p1", "e1"))  # an event's count
    await live.observer.until(lambda: len(live.observer.polls) == 5)
    registry.written(DEMO_API_KEY, Write("created", "category", "c9"))  # categories only
    await live.observer.until(lambda: len(live.observer.polls) == 6)
    assert live.observer.polls[3:] == [("write", False)] * 3


async def test_upstream_trouble_after_a_result_is_not_delivered(
    live: Live, emulator: RunningEmulator, emulator_admin: EmulatorAdmin
) -> None:
    events = live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    first = await next_event(events)
    await emulator_admin.configure(fault_rate=1.0, faults=["503"])
    polls = len(live.observer.polls)
    await live.observer.until(lambda: len(live.observer.polls) >= polls + 2)
    await emulator_admin.configure(fault_rate=0.0)
    await retitle_upstream(emulator, first_event(first)["id"], "After the outage")
    # The next thing the subscriber sees is the change, never the outage's errors.
    second = await next_event(events)
    assert second.result.errors is None
    assert first_event(second)["title"] == "After the outage"


async def test_a_key_the_upstream_refuses_is_told_once_and_its_subscriptions_end(live: Live) -> None:
    events = live.registry.watch("not-a-key-the-upstream-knows", live.request(EVENTS))
    refused = await next_event(events)
    assert refused.result.errors is not None
    assert refused.result.errors[0].extensions is not None
    assert refused.result.errors[0].extensions["code"] == "UNAUTHENTICATED"
    with pytest.raises(StopAsyncIteration):
        await next_event(events)
    assert live.registry.queries == 0


async def test_a_key_holds_at_most_max_per_key_subscriptions(
    live_for: LiveFor, emulator: RunningEmulator
) -> None:
    live = live_for(emulator, max_per_key=2)
    first = live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    live.registry.watch(DEMO_API_KEY, live.request(CATEGORIES))
    with pytest.raises(TooManySubscriptions):
        live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    live.registry.watch("another-key", live.request(EVENTS))  # another key has its own allowance
    await first.aclose()  # type: ignore[attr-defined]
    live.registry.watch(DEMO_API_KEY, live.request(EVENTS))


async def test_closing_completes_every_subscription_and_refuses_new_ones(live: Live) -> None:
    events = live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
    await next_event(events)
    await live.registry.aclose()
    with pytest.raises(StopAsyncIteration):
        await next_event(events)
    assert live.registry.queries == 0
    with pytest.raises(ShuttingDown):
        live.registry.watch(DEMO_API_KEY, live.request(EVENTS))
