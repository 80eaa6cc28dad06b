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

And the gateway on a free loopback port, pointed at a real emulator (server, observability, CLI tests):

- ``start_app``: ``await start_app(app)`` serves any aiohttp application and returns its base URL.
- ``gateway_factory``: ``await gateway_factory(**changes)`` starts a gateway with some settings changed,
  by default on the shared ``emulator``; ``gateway``: the base URL of one with default settings
  (``tests/graph`` overrides ``gateway`` with the schema run in process).
- ``http``: an httpx client for the test to call them with.
- ``SCRIPT``, ``clean_env``, ``serve_on_a_taken_port``: for tests that run the ``events-gateway``
  console script as a subprocess.

Helpers: ``eventually(check, what)`` waits for something another task or process does;
``retitle_upstream(emulator, event_id, title)`` edits an event on the upstream behind the gateway's back.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from events_gateway.emulator import (
    DEMO_API_KEY,
    EmulatorAdmin,
    EmulatorSettings,
    RunningEmulator,
    run_emulator,
)
from events_gateway.server import create_app
from events_gateway.settings import Settings

from .redis_process import REDIS_SERVER, RedisServer

EmulatorFactory = Callable[..., Awaitable[RunningEmulator]]
AllPages = Callable[..., Awaitable[list[dict[str, Any]]]]
StartApp = Callable[[web.Application], Awaitable[str]]
GatewayFactory = Callable[..., Awaitable[str]]

#: The ``events-gateway`` console script of the venv running the tests.
SCRIPT = Path(sys.executable).with_name("events-gateway")

#: Generous bound on any wait for something another task or process does; only there so a broken build
#: fails instead of hanging (nothing asserts on how long it took).
WAIT = 20.0

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
async def start_app() -> AsyncIterator[StartApp]:
    """Serve any aiohttp application on 127.0.0.1:0 and return its base URL; closed after the test."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def gateway_factory(emulator: RunningEmulator, start_app: StartApp) -> GatewayFactory:
    """Start a gateway with some settings changed; by default it talks to the shared emulator."""

    async def start(**changes: Any) -> str:
        settings = Settings(upstream_url=emulator.api_url).with_(**changes)
        return await start_app(create_app(settings))

    return start


@pytest.fixture
async def gateway(gateway_factory: GatewayFactory) -> str:
    """Base URL of a gateway with default settings over the demo emulator (no fallback key)."""
    return await gateway_factory()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` holds (another process's message, a figure on ``/metrics``, a reconnect),
    failing after ``WAIT`` seconds with ``what``."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.02)  # the change happens elsewhere: nothing to wait on but asking again
    except TimeoutError:
        pytest.fail(f"never happened: {what}")


async def retitle_upstream(emulator: RunningEmulator, event_id: str, title: str) -> None:
    """Rename an event on the upstream directly, as Secoda's own UI would: the gateway is not told."""
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {DEMO_API_KEY}"}) as rest:
        response = await rest.patch(f"{emulator.api_url}/event/events/{event_id}/", json={"title": title})
    assert response.status_code == 200, response.text


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any gateway or upstream setting, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EVENTS_API_", "EVENTS_GATEWAY_"))
    }
    return {**env, **extra}


async def serve_on_a_taken_port(*options: str, wait: float) -> tuple[int, int | None, str]:
    """Run ``serve`` on a loopback port another socket holds; the port, the exit code and the stderr."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            str(SCRIPT),
            "serve",
            "--port",
            str(port),
            *options,
            env=clean_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), wait)
    return port, process.returncode, stderr.decode()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A running redis-server of this test's own, killed at teardown."""
    if REDIS_SERVER is None:
        reason = "redis-server is not installed (scripts/ensure-redis installs Debian's redis-server)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)  # in CI a missing server must fail the build, not skip its tests
        pytest.skip(reason)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.kill()
