"""Fixtures for the tests that drive real JavaScript clients (``clients/``, an npm project) with ``node``.

- ``clients``: runs ``npm``/``node`` commands in ``clients/`` and returns their stdout; skips the test when
  npm is not installed, and fails with the fix when ``make setup`` has not installed the project.
- ``served``: a gateway on a free loopback port over the demo emulator, as ``Served`` (its ``/graphql`` URL,
  the demo key and the emulator's admin client to count upstream calls).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.server import create_app
from events_gateway.settings import Settings

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
#: Long enough for a cold ``relay-compiler`` or ``tsc`` on a busy machine; only a hung process meets it.
COMMAND_TIMEOUT = 300.0


class Clients:
    """Runs commands in ``clients/``; ``run`` returns stdout, failing the test on a non-zero exit."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    async def run(self, *command: str, env: dict[str, str] | None = None) -> str:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=CLIENTS,
            env={**self.env, **(env or {})},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
        assert process.returncode == 0, f"{' '.join(command)} failed:\n{stdout.decode()}\n{stderr.decode()}"
        return stdout.decode()


@pytest.fixture
def clients() -> Clients:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("needs node and npm")
    if not (CLIENTS / "node_modules").is_dir():
        pytest.fail("clients/node_modules is missing: run `make setup` (npm ci --prefix clients)")
    return Clients(env={**os.environ, "NO_COLOR": "1"})


@dataclass
class Served:
    url: str
    key: str
    emulator: RunningEmulator
    admin: EmulatorAdmin


@pytest.fixture
async def served(emulator: RunningEmulator, emulator_admin: EmulatorAdmin) -> AsyncIterator[Served]:
    server = TestServer(create_app(Settings(upstream_url=emulator.api_url)), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield Served(str(server.make_url("/graphql")), DEMO_API_KEY, emulator, emulator_admin)
    finally:
        await server.close()
