"""The typed application state of the gateway (``web.AppKey``s), in one place for every module."""

from __future__ import annotations

from aiohttp import web

from ..cache import RedisLink
from ..settings import Settings
from ..upstream import UpstreamClient

SETTINGS_KEY = web.AppKey("settings", Settings)
CLIENT_KEY = web.AppKey("upstream_client", UpstreamClient)
#: The process's one Redis client, present when ``EVENTS_GATEWAY_REDIS_URL`` is set.
REDIS_KEY = web.AppKey("redis", RedisLink)
