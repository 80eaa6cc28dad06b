"""Test aids under ``/_emulator`` (outside ``/api/v1``), served only when ``settings.admin`` is true.

- ``GET /_emulator/stats``: request counters, call times and the number of sequential rounds;
- ``POST /_emulator/reset``: clear the counters and the write-limit windows, restart the fault draw;
- ``GET|PATCH /_emulator/config``: read or change latency, faults (drawn, or ruled per route and query),
  write limit and page size at run time, and queue faults for the next requests (``fail_next``).

These routes take no API key: they exist for tests and benchmarks on loopback, never in production.
"""

from __future__ import annotations

from aiohttp import web

from .errors import NON_FIELD_ERRORS, ValidationError
from .keys import STATE
from .settings import EmulatorSettingsError
from .validation import parse_body

ADMIN_PREFIX = "/_emulator"


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats.snapshot())


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.json_response({"status": "reset"})


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].config_view())


async def patch_config(request: web.Request) -> web.Response:
    changes = parse_body(await request.read())
    state = request.app[STATE]
    try:
        state.configure(changes)
    except EmulatorSettingsError as exc:
        raise ValidationError.of(NON_FIELD_ERRORS, str(exc)) from None
    return web.json_response(state.config_view())


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get(f"{ADMIN_PREFIX}/stats", stats)
    app.router.add_post(f"{ADMIN_PREFIX}/reset", reset)
    app.router.add_get(f"{ADMIN_PREFIX}/config", get_config)
    app.router.add_patch(f"{ADMIN_PREFIX}/config", patch_config)
