"""Typed keys for what the app and each request carry, shared by the app, middleware and handlers."""

from __future__ import annotations

from aiohttp import web

from .settings import EmulatorSettings
from .state import EmulatorState
from .store import Store

SETTINGS = web.AppKey("emulator_settings", EmulatorSettings)
STORE = web.AppKey("emulator_store", Store)
STATE = web.AppKey("emulator_state", EmulatorState)

#: The workspace of the request's API key (set by the auth middleware).
WORKSPACE = web.RequestKey("emulator_workspace", str)
#: The request's API key, for the write limit; never logged.
API_KEY = web.RequestKey("emulator_api_key", str)
