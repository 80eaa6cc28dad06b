"""The gateway's one app factory: routes, middleware order, CORS, and the shared upstream client.

The CLI and the tests both call :func:`create_app`, so every test crosses the same wiring a user does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp_cors
from aiohttp import web
from strawberry.extensions import DisableIntrospection

from ..cache import Cache, CacheConfig, RedisLink
from ..graph import build_schema
from ..settings import Settings, SettingsError
from ..upstream import BreakerPolicy, RetryPolicy, UpstreamClient, UpstreamSettings
from .browser_safety import host_middleware
from .call_plan import plan_allowed
from .errors import error_middleware
from .graphiql import ASSETS_PREFIX, ENDPOINT, GraphiQLPage
from .health import healthz, readyz
from .hosts import HostRule
from .keys import CACHE_KEY, CLIENT_KEY, HOST_RULE_KEY, METRICS_KEY, REDIS_KEY, SETTINGS_KEY
from .live import STREAM_ENDPOINT, LiveView, install_live
from .live_socket import SocketOperations
from .observe import install_observability, observability_extensions, observe_middleware
from .persisted_queries import MemoryQueryStore, PersistedQueries
from .redis_queries import RedisQueryStore
from .request_id import HEADER as REQUEST_ID_HEADER
from .request_id import request_id_middleware, stamp_request_id

#: Outermost first: the error catcher sees everything, including a failure to assign a request id.
#: The observer is outside it, so the access log and metrics see the final status of error pages too.
#: The host check comes last, so its refusals carry a request id, and before any route or CORS preflight.
MIDDLEWARES = (observe_middleware, error_middleware, request_id_middleware, host_middleware)

#: Seconds a browser may cache a CORS preflight answer.
CORS_MAX_AGE = 600


def upstream_settings(settings: Settings) -> UpstreamSettings:
    """The upstream client's settings, taken from the gateway's."""
    if settings.upstream_url is None:
        raise SettingsError(
            "EVENTS_API_URL is not set: give the upstream API root (e.g. https://api.secoda.co/api/v1), "
            "or run `events-gateway serve`, which starts the embedded emulator"
        )
    return UpstreamSettings(
        base_url=settings.upstream_url,
        timeout=settings.upstream_timeout,
        connect_timeout=settings.connect_timeout,
        max_connections=settings.max_connections,
        retry=RetryPolicy(max_attempts=settings.retry_max_attempts),
        breaker=BreakerPolicy(
            failure_threshold=settings.breaker_failure_threshold, cooldown=settings.breaker_cooldown
        ),
    )


def cache_config(settings: Settings) -> CacheConfig:
    """The cache's settings, taken from the gateway's (the cache package knows nothing of ``Settings``)."""
    return CacheConfig(
        ttl=settings.cache_ttl,
        stale=settings.cache_stale,
        max_bytes=settings.cache_max_bytes,
        redis_url=settings.redis_url,
        secret=settings.cache_secret,
    )


def create_app(settings: Settings, *, client: UpstreamClient | None = None) -> web.Application:
    """Build the gateway application.

    The process-wide ``UpstreamClient`` is opened and closed with the app, unless ``client`` is given:
    then the caller owns it (tests that share one, or an embedding application).
    """
    if client is None:
        client_settings = upstream_settings(settings)  # fail at build time, not on the first request

        async def upstream_client(app: web.Application) -> AsyncIterator[None]:
            app[CLIENT_KEY] = UpstreamClient(client_settings)
            try:
                yield
            finally:
                await app[CLIENT_KEY].aclose()

    app = web.Application(middlewares=MIDDLEWARES)
    app[SETTINGS_KEY] = settings
    app[HOST_RULE_KEY] = HostRule.from_settings(settings)
    if client is None:
        app.cleanup_ctx.append(upstream_client)
    else:
        app[CLIENT_KEY] = client
    app.on_response_prepare.append(stamp_request_id)

    graphiql = (
        GraphiQLPage(
            settings.graphiql_assets,
            fallback_key_configured=settings.api_key is not None,
            upstream_plan=plan_allowed(settings),
        )
        if settings.graphiql
        else None
    )
    # The graph layer leaves introspection to the edge: only the server knows it faces the public.
    extensions = [] if settings.introspection else [DisableIntrospection]
    schema = build_schema(
        settings, extensions=[*extensions, *observability_extensions(settings), SocketOperations]
    )
    view = LiveView(schema, settings=settings, graphiql=graphiql)
    metrics = install_observability(app, settings)
    view.persisted_queries = PersistedQueries.from_settings(
        settings, on_outcome=metrics.record_persisted_query
    )
    if settings.redis_url is not None:
        app.cleanup_ctx.append(_redis(settings.redis_url, view))
    app.cleanup_ctx.append(_cache(settings))  # after Redis: it shares the process's one link
    install_live(app, settings, schema, cache_namespace=cache_config(settings).namespace)
    graphql_routes = [
        app.router.add_route(method, path, view)
        for path in (ENDPOINT, STREAM_ENDPOINT)
        for method in ("GET", "POST")
    ]
    if graphiql is not None:
        app.router.add_get(ASSETS_PREFIX + "/{name}", graphiql.serve_asset)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)

    if settings.cors_origins:
        _enable_cors(app, settings.cors_origins, graphql_routes)
    return app


def _redis(url: str, view: LiveView) -> Callable[[web.Application], AsyncIterator[None]]:
    """The process's Redis client, opened and closed with the app; persisted queries go through it."""

    async def redis_link(app: web.Application) -> AsyncIterator[None]:
        link = RedisLink(url, observer=app[METRICS_KEY])
        app[REDIS_KEY] = link
        apq = view.persisted_queries
        if apq is not None and isinstance(apq.store, MemoryQueryStore):
            apq.store = RedisQueryStore(link, apq.store)
        try:
            yield
        finally:
            await link.aclose()

    return redis_link


def _cache(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """The process's cache of upstream answers and operation results, opened and closed with the app
    (over the Redis link when there is one; off, but still hashing keys for ETags, when the TTL is 0)."""

    async def cache(app: web.Application) -> AsyncIterator[None]:
        opened = await Cache.open(cache_config(settings), link=app.get(REDIS_KEY), observer=app[METRICS_KEY])
        app[CACHE_KEY] = opened
        try:
            yield
        finally:
            await opened.aclose()

    return cache


def _enable_cors(app: web.Application, origins: tuple[str, ...], routes: list[web.AbstractRoute]) -> None:
    """Let browsers on the configured origins call ``/graphql`` (credentials are never needed: keys
    travel in the ``Authorization`` header)."""
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]  # the library has no hints
        allow_credentials=False,
        allow_headers="*",  # Apollo, urql and Relay each add their own headers
        expose_headers=(REQUEST_ID_HEADER,),
        allow_methods=("GET", "POST"),
        max_age=CORS_MAX_AGE,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in routes:
        cors.add(route)
