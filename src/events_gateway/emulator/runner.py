"""Start and stop an emulator inside the current event loop, on a host and port (0 picks a free one).

Example::

    async with run_emulator(EmulatorSettings(), port=0) as running:
        httpx.get(f"{running.api_url}/healthcheck")
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from ..loopback import is_loopback
from .app import create_app
from .settings import DEFAULT_HOST, EmulatorSettings, EmulatorSettingsError
from .views import API_PREFIX

#: Seconds ``stop`` waits for requests still being answered.
SHUTDOWN_TIMEOUT = 5.0
ADMIN_OFF_LOOPBACK = (
    "the test aids (--admin) take no API key, so they listen on loopback only; "
    "{host!r} is not a loopback address (use 127.0.0.1, localhost or ::1)"
)


@dataclass(frozen=True, slots=True)
class RunningEmulator:
    """A started emulator: where it listens and how it was configured.

    Attributes:
        url: ``http://HOST:PORT`` (the test aids live under ``url + "/_emulator"``).
        api_url: ``url + "/api/v1"``, the root a client of the upstream API is given.
        settings: the settings it started with (run-time changes are not reflected here).
        app: the aiohttp application, for in-process inspection.
    """

    url: str
    api_url: str
    settings: EmulatorSettings
    app: web.Application


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@asynccontextmanager
async def run_emulator(
    settings: EmulatorSettings | None = None, *, host: str = DEFAULT_HOST, port: int = 0
) -> AsyncIterator[RunningEmulator]:
    """Serve an emulator until the block ends; the yielded object carries its bound URL.

    Raises ``EmulatorSettingsError`` for ``admin`` on a host that is not loopback: the test aids take no key.
    """
    settings = settings or EmulatorSettings()
    if settings.admin and not is_loopback(host):
        raise EmulatorSettingsError(ADMIN_OFF_LOOPBACK.format(host=host))
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = int(runner.addresses[0][1])
        url = _url(host, bound_port)
        yield RunningEmulator(url=url, api_url=f"{url}{API_PREFIX}", settings=settings, app=app)
    finally:
        await runner.cleanup()
