"""Fixtures shared by every test: real emulators on free loopback ports.

- ``emulator_factory``: ``await emulator_factory(**overrides)`` starts an emulator with
  ``EmulatorSettings(**overrides)`` on 127.0.0.1:0 and returns the running object (``.url``, ``.api_url``,
  ``.settings``). The test aids are on and the write limit is off unless an override says otherwise.
  Every emulator started is stopped at teardown.
- ``emulator``: one running emulator with the demo data and those defaults.
- ``emulator_admin``: an ``EmulatorAdmin`` client for ``emulator``'s test aids (stats, reset, configure).
- ``api_headers``: the demo key's ``Authorization`` header.
- ``all_pages``: ``await all_pages(client, path, **params)`` reads a route through an httpx client and
  returns every result, following ``links.next`` as given (a single object's route: that object alone).
- ``redis_server``: a real ``redis-server`` on a free loopback port, without persistence, in a temporary
  folder (``.url``, ``.client()``; ``.kill()``, ``.start()``, ``.restart()``, ``.pause()``,
  ``.resume()`` for outages mid-test); killed at teardown. Skips when ``redis-server`` is missing
  (``scripts/ensure-redis`` installs it).

Gateway fixtures build on these in ``tests/graph/conftest.py`` and ``tests/server/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from events_gateway.emulator import (
    DEMO_API_KEY,
    EmulatorAdmin,
    EmulatorSettings,
    RunningEmulator,
    run_emulator,
)
from redis_process import REDIS_SERVER, RedisServer

EmulatorFactory = Callable[..., Awaitable[RunningEmulator]]
AllPages = Callable[..., Awaitable[list[dict[str, Any]]]]

#: What test emulators differ in from the defaults: aids on, no write limit to trip over.
TEST_DEFAULTS: dict[str, Any] = {"admin": True, "write_limit": None}


@pytest.fixture
async def emulator_factory() -> AsyncIterator[EmulatorFactory]:
    """Start emulators with settings overrides; all are stopped after the test."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> RunningEmulator:
            settings = EmulatorSettings(**{**TEST_DEFAULTS, **overrides})
            return await stack.enter_async_context(run_emulator(settings, host="127.0.0.1", port=0))

        yield start


@pytest.fixture
async def emulator(emulator_factory: EmulatorFactory) -> RunningEmulator:
    """A running emulator with the demo data."""
    return await emulator_factory()


@pytest.fixture
async def emulator_admin(emulator: RunningEmulator) -> AsyncIterator[EmulatorAdmin]:
    async with EmulatorAdmin(emulator.url) as admin:
        yield admin


@pytest.fixture
def api_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_API_KEY}"}


async def _all_pages(client: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(path, params=params)
    response.raise_for_status()
    body = response.json()
    if "results" not in body:  # a single object's route
        return [body]
    results: list[dict[str, Any]] = list(body["results"])
    while body["links"]["next"]:
        response = await client.get(body["links"]["next"])
        response.raise_for_status()
        body = response.json()
        results.extend(body["results"])
    return results


@pytest.fixture
def all_pages() -> AllPages:
    """``await all_pages(client, path, **params)``: every result, following ``links.next`` as given.

    A single object's route (no ``results``) reads as that object alone.
    """
    return _all_pages


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running redis-server of this test's own, killed at teardown."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (scripts/ensure-redis installs Debian's redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()
