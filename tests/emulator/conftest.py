"""Clients for the contract suite: real httpx over loopback to a running emulator.

- ``client_for(emulator, key=DEMO_API_KEY)``: an httpx client rooted at that emulator's ``/api/v1``
  (``ClientFor`` is its type, for annotations).
- ``api``: the demo key's client for the shared demo emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator

ClientFor = Callable[..., httpx.AsyncClient]


def _client_for(emulator: RunningEmulator, key: str | None = DEMO_API_KEY) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.AsyncClient(base_url=emulator.api_url, headers=headers, timeout=10)


@pytest.fixture
def client_for() -> ClientFor:
    """``client_for(emulator, key=DEMO_API_KEY)``: an httpx client rooted at that emulator's ``/api/v1``."""
    return _client_for


@pytest.fixture
async def api(emulator: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """The demo key's client for the shared demo emulator."""
    async with _client_for(emulator) as client:
        yield client
