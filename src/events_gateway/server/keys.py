"""The typed application state of the gateway (``web.AppKey``s), in one place for every module."""

from __future__ import annotations

from aiohttp import web

from ..cache import Cache, RedisLink
from ..observability import GatewayMetrics
from ..settings import Settings
from ..upstream import UpstreamClient
from .hosts import HostRule

SETTINGS_KEY = web.AppKey("settings", Settings)
CLIENT_KEY = web.AppKey("upstream_client", UpstreamClient)
METRICS_KEY = web.AppKey("metrics", GatewayMetrics)
HOST_RULE_KEY = web.AppKey("host_rule", HostRule)
#: The process's one Redis client, present when ``EVENTS_GATEWAY_REDIS_URL`` is set.
REDIS_KEY = web.AppKey("redis", RedisLink)
#: The process's cache of upstream answers and operation results (always present; off when the TTL is 0).
CACHE_KEY = web.AppKey("cache", Cache)
