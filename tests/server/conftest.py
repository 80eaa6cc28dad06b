"""Fixtures that start the gateway on a free loopback port, pointed at a real emulator."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from events_gateway.emulator import RunningEmulator
from events_gateway.server import create_app
from events_gateway.settings import Settings

#: The ``events-gateway`` console script of the venv running the tests.
SCRIPT = Path(sys.executable).with_name("events-gateway")

GatewayFactory = Callable[..., Awaitable[str]]
#: The shared ``emulator_factory`` fixture (tests/conftest.py).
EmulatorFactory = Callable[..., Awaitable[RunningEmulator]]


@pytest.fixture
async def start_app() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
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
async def gateway_factory(
    emulator: RunningEmulator, start_app: Callable[[web.Application], Awaitable[str]]
) -> GatewayFactory:
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
