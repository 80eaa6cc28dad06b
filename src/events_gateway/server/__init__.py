"""The gateway's HTTP server: ``/graphql`` (POST, GET, GraphiQL), health probes, CORS, request ids.

It knows nothing of Secoda's paths: requests become GraphQL executions with a per-request context, and the
one process-wide upstream client lives and dies with the application.
"""

from .app import create_app, upstream_settings
from .graphiql import ASSETS, DEMO_QUERY
from .keys import CLIENT_KEY, SETTINGS_KEY
from .request_id import REQUEST_ID_KEY
from .view import GatewayView, bearer_key

__all__ = [
    "ASSETS",
    "CLIENT_KEY",
    "DEMO_QUERY",
    "REQUEST_ID_KEY",
    "SETTINGS_KEY",
    "GatewayView",
    "bearer_key",
    "create_app",
    "upstream_settings",
]
