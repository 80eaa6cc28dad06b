"""The gateway's HTTP server: ``/graphql`` (POST, GET, batches, GraphiQL), live queries over WebSocket
and SSE, the operation cache, health probes, CORS, request ids, persisted queries, ``/metrics``, access
logs and the upstream call plan.

It knows nothing of Secoda's paths: requests become GraphQL executions with a per-request context, and the
one process-wide upstream client lives and dies with the application.
"""

from .app import cache_config, create_app, upstream_settings
from .browser_safety import bearer_key
from .call_plan import PLAN_HEADER
from .graceful import GracefulStop
from .graphiql import ASSETS, DEMO_QUERY
from .keys import CACHE_KEY, CLIENT_KEY, METRICS_KEY, REDIS_KEY, SETTINGS_KEY
from .persisted_queries import MemoryQueryStore, PersistedQueries, PersistedQueryStore
from .redis_queries import RedisQueryStore
from .request_id import REQUEST_ID_KEY
from .view import GatewayView

__all__ = [
    "ASSETS",
    "CACHE_KEY",
    "CLIENT_KEY",
    "DEMO_QUERY",
    "METRICS_KEY",
    "PLAN_HEADER",
    "REDIS_KEY",
    "REQUEST_ID_KEY",
    "SETTINGS_KEY",
    "GatewayView",
    "GracefulStop",
    "MemoryQueryStore",
    "PersistedQueries",
    "PersistedQueryStore",
    "RedisQueryStore",
    "bearer_key",
    "cache_config",
    "create_app",
    "upstream_settings",
]
