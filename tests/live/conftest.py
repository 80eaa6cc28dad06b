"""A registry of live queries over the real schema, a real upstream client and a real emulator.

- ``live_for(emulator, **settings)``: a ``Live`` whose ``registry`` polls through ``schema`` and whose
  ``observer`` hears every poll and push, so a test waits for events instead of sleeping.
- ``live``: one over the shared demo emulator, polling every 50 ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import parse

from events_gateway.emulator import RunningEmulator
from events_gateway.graph import build_schema
from events_gateway.graph.live import LiveRequest, kinds_read
from events_gateway.live import LiveQueries, QueryRunner
from events_gateway.settings import Settings
from events_gateway.upstream import UpstreamClient, UpstreamSettings
from events_gateway.upstream.resilience import RetryPolicy

#: Seconds a wait may take before a test gives up (a bound on a hang, not a timing claim).
PATIENCE = 20.0


@dataclass
class Observer:
    """Every poll (reason, changed) and push (subscribers, latency), with an event per new record."""

    polls: list[tuple[str, bool]] = field(default_factory=list)
    pushes: list[tuple[int, float | None]] = field(default_factory=list)
    counts: tuple[int, int] = (0, 0)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record_live_poll(self, reason: str, changed: bool) -> None:
        self.polls.append((reason, changed))
        self.changed.set()

    def record_live_push(self, subscribers: int, latency: float | None) -> None:
        self.pushes.append((subscribers, latency))
        self.changed.set()

    def set_live_counts(self, subscriptions: int, queries: int) -> None:
        self.counts = (subscriptions, queries)

    async def until(self, check: Callable[[], bool]) -> None:
        """Wait, record by record, until ``check`` holds."""
        async with asyncio.timeout(PATIENCE):
            while not check():
                self.changed.clear()
                await self.changed.wait()


@dataclass
class Live:
    registry: LiveQueries
    observer: Observer
    schema: Any

    def request(self, document: str, **variables: Any) -> LiveRequest:
        """The live request of a query document, as the twin resolver builds one."""
        parsed = parse(document)
        name = parsed.definitions[0].name  # type: ignore[attr-defined]
        return LiveRequest(
            document=document,
            variables=variables,
            operation_name=name.value if name else None,
            kinds=kinds_read(self.schema._schema, parsed),
        )


LiveFor = Callable[..., Live]


@pytest.fixture
async def live_for() -> AsyncIterator[LiveFor]:
    async with AsyncExitStack() as stack:

        def make(
            emulator: RunningEmulator, *, interval: float = 0.05, max_per_key: int = 500, **changes: Any
        ) -> Live:
            client = UpstreamClient(
                UpstreamSettings(base_url=emulator.api_url, retry=RetryPolicy(max_attempts=1), breaker=None)
            )
            stack.push_async_callback(client.aclose)
            settings = Settings(upstream_url=emulator.api_url, **changes)
            schema = build_schema(settings)
            observer = Observer()
            registry = LiveQueries(
                QueryRunner(schema, client, settings),
                interval=interval,
                max_per_key=max_per_key,
                observer=observer,
            )
            stack.push_async_callback(registry.aclose)
            return Live(registry, observer, schema)

        yield make


@pytest.fixture
def live(emulator: RunningEmulator, live_for: LiveFor) -> Live:
    return live_for(emulator)
