"""The emulator's application factory: a local, stateful stand-in for the Secoda Events REST API.

Fidelity — what it reproduces (from Secoda's public docs and public client code; see docs/emulator.md):

- the routes ``/api/v1/event/category``, ``/event/events``, ``/event/event_properties`` (list, create, read,
  and for events and properties update and delete), ``/resource/catalog`` (List Resources with the
  ``filter``/``sort`` JSON grammar and the 10,000-result cap), ``/resource/all/{id}`` (read, update,
  delete any resource), ``/integration/integrations`` and ``/healthcheck``; each with or without a
  trailing slash;
- the resource object's fields, hyphenated UUID ids (bare hex accepted on input), UTC timestamps with
  microseconds, live ``children_count``;
- the page envelope (``links``, ``meta``, ``count``, ``total_pages``, ``resource_totals``, ``results``),
  ``404 {"detail": "Invalid page."}`` past the end;
- status codes (200, 201, 204, 400, 401, 404, 405, 429) and DRF-shaped error bodies;
- Bearer-key auth with one workspace per key, and tenancy isolation;
- the write rate limit (30 a minute per key) with ``Retry-After``.

What it does not reproduce: users, teams, groups, tags, collections and custom properties as objects (their
ids are stored as given, never checked); permissions below the workspace (no 403); creating
integrations; GET rate limits; search ranking; the exact wording of upstream error messages, which is not
documented; any behaviour nobody has observed on the real service. Where the sources are silent, the
choice is written in docs/emulator.md.

Test aids (``settings.admin``): added latency, injected faults, request counters — see ``admin.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from .admin import add_admin_routes
from .keys import SETTINGS, STATE, STORE
from .middleware import MIDDLEWARES
from .seed import seed_workspace
from .settings import EmulatorSettings
from .state import EmulatorState
from .store import Store
from .views import add_api_routes


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the database, seed each workspace that has no data yet, and close it on shutdown."""
    settings = app[SETTINGS]
    store = Store.open(settings.db_path)
    try:
        for workspace in dict.fromkeys(settings.api_keys.values()):
            seed_workspace(store, workspace, settings.seed, settings.scale)
        app[STORE] = store
        yield
    finally:
        store.close()


async def _end_stalls(app: web.Application) -> None:
    app[STATE].closing.set()


def create_app(settings: EmulatorSettings | None = None) -> web.Application:
    """A ready-to-run emulator; the CLI, ``run_emulator`` and the tests all start it through here."""
    settings = settings or EmulatorSettings()
    app = web.Application(middlewares=list(MIDDLEWARES))
    app[SETTINGS] = settings
    app[STATE] = EmulatorState(settings)
    app.cleanup_ctx.append(_store_ctx)
    app.on_shutdown.append(_end_stalls)
    add_api_routes(app)
    if settings.admin:
        add_admin_routes(app)
    return app
