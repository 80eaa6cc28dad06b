"""A tiny async client for the test aids, so tests and benchmarks need not spell out the admin routes.

Example::

    async with EmulatorAdmin(running.url) as admin:
        await admin.configure(latency_ms=20)
        await admin.reset()
        ...
        print((await admin.stats())["rounds"])
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from .admin import ADMIN_PREFIX


class EmulatorAdmin:
    """Talks to ``/_emulator`` of a running emulator started with ``admin=True``."""

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}{ADMIN_PREFIX}", transport=transport
        )

    async def stats(self) -> dict[str, Any]:
        """``{"total", "by_route", "rounds", "calls"}`` since the start or the last reset."""
        return await self._call("GET", "/stats")

    async def reset(self) -> None:
        """Clear counters and write-limit windows (data stays as it is)."""
        await self._call("POST", "/reset")

    async def config(self) -> dict[str, Any]:
        return await self._call("GET", "/config")

    async def configure(self, **changes: Any) -> dict[str, Any]:
        """Change run-time settings, e.g. ``configure(latency_ms=20, fault_rate=0.1)``; returns the config."""
        return await self._call("PATCH", "/config", json=changes)

    async def _call(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        response = await self._client.request(method, path, json=json)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> EmulatorAdmin:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
