"""The server's side of observability: one record per request, an access log line, metrics, ``/metrics``.

Three small pieces, each attached through a framework hook so handlers and resolvers stay free of them:

- :func:`observe_middleware` (outermost, so it sees the final status, error pages included): opens the
  request's record (``observability.context``), times the request, then writes the access log line and
  the request and upstream metrics;
- :class:`OperationObserver` (a schema extension): notes each operation's name, its outcome (``ok`` or
  the first error's ``extensions.code``) and the upstream calls it made, in the record;
- :func:`metrics_handler`: ``GET /metrics`` in Prometheus' text format, from the app's own registry.

The access line (logger ``events_gateway.access``) carries ``method``, ``path`` (never the query
string, which may hold variables), ``status``, ``duration_ms``, ``operation``, ``outcome``,
``upstream_calls`` and ``cache_hits`` (GETs the cache answered), plus the ``request_id`` every record of
the request has. Only calls that reached the upstream count in its rounds; every call is counted in the
metrics as it ends, through the client (``UpstreamClient.add_call_listener``), so the calls of a
background cache refresh that ends after its request are counted too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from ..graph import ErrorCode
from ..observability import (
    ACCESS_LOGGER,
    CONTENT_TYPE,
    GatewayMetrics,
    OperationRecord,
    RequestRecord,
    current_request,
    instrument_upstream,
    operation_tracing,
    request_scope,
)
from ..settings import Settings
from .call_plan import PLAN_HEADER, call_plan_extensions, exchanges, plan_allowed, rounds_of, wants_plan
from .graphiql import ENDPOINT
from .keys import CLIENT_KEY, METRICS_KEY, SETTINGS_KEY
from .request_id import ensure_request_id

__all__ = [
    "METRICS_PATH",
    "OperationObserver",
    "install_observability",
    "metrics_handler",
    "observability_extensions",
    "observe_middleware",
    "outcome_of",
]

METRICS_PATH = "/metrics"

access_logger = logging.getLogger(ACCESS_LOGGER)


def outcome_of(errors: list[GraphQLError] | None) -> str:
    """``ok``, or the first error's ``extensions.code`` (``GRAPHQL_PARSE_FAILED`` or
    ``GRAPHQL_VALIDATION_FAILED`` for the spec's own errors, which carry none)."""
    if not errors:
        return "ok"
    first = errors[0]
    code = (first.extensions or {}).get("code")
    if isinstance(code, str) and code:
        return code
    if isinstance(first, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if first.path is None:
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    return ErrorCode.INTERNAL_SERVER_ERROR


class OperationObserver(SchemaExtension):
    """Notes the operation's name, outcome and upstream calls in the current request's record.

    ``get_results`` runs once the result is final (errors already masked and coded), on every path:
    executed, refused by a limit, or failed to validate.
    """

    #: A subscription asks once per result it streams, for hours maybe: its operation is noted once.
    _noted = False

    def get_results(self) -> dict[str, Any]:
        record = current_request()
        if record is not None and not self._noted:
            self._noted = True
            context = self.execution_context
            record.operations.append(
                OperationRecord(context.operation_name, outcome_of(context.pre_execution_errors))
            )
            calls = getattr(context.context, "calls", None)
            if isinstance(calls, list) and calls is not record.calls:
                record.calls = calls  # the context's own list: calls ending later are still counted
        return {}


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SETTINGS_KEY]
    record = RequestRecord(ensure_request_id(request))
    record.plan_requested = plan_allowed(settings) and wants_plan(request.headers.get(PLAN_HEADER))
    status = 500
    with request_scope(record):
        try:
            response = await handler(request)
            status = response.status
            if record.plan_requested and record.operations:
                # A plan is this caller's own figures: no shared cache may keep or serve it.
                response.headers["Cache-Control"] = "no-store"
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            _finish(request, record, status)


def _finish(request: web.Request, record: RequestRecord, status: int) -> None:
    seconds = time.perf_counter() - record.started
    operation = record.operations[0] if record.operations else None
    name = operation.name if operation is not None else None
    outcome = operation.outcome if operation is not None else ("ok" if status < 400 else f"HTTP_{status}")
    metrics = request.app.get(METRICS_KEY)
    is_graphql = request.path == ENDPOINT and (record.operations or status >= 400)
    sent = exchanges(record.calls)
    if metrics is not None and is_graphql:  # its calls were counted as they ended (``observe_client``)
        metrics.observe_request(name, outcome, seconds)
        metrics.observe_rounds(name, max(rounds_of(sent), default=0))
    access_logger.info(
        "%s %s %d %.1fms",
        request.method,
        request.path,
        status,
        seconds * 1000,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "operation": name,
            "outcome": outcome if is_graphql else None,
            "upstream_calls": len(sent),
            "cache_hits": len(record.calls) - len(sent),
        },
    )


async def metrics_handler(request: web.Request) -> web.Response:
    """``GET /metrics``: every collector of this app, in the Prometheus text format."""
    metrics = request.app[METRICS_KEY]
    breaker = request.app[CLIENT_KEY].breaker
    if breaker is not None:  # an open circuit turns half-open lazily, when asked: ask now
        for origin, state in breaker.states().items():
            metrics.set_breaker_state(origin, state)
    body = metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def observability_extensions(settings: Settings) -> list[type[SchemaExtension]]:
    """The schema extensions of this module's concerns: the operation record, the call plan when
    allowed, and operation spans when tracing is on."""
    extensions: list[type[SchemaExtension]] = [OperationObserver, *call_plan_extensions(settings)]
    if settings.otel:
        extensions.append(operation_tracing())
    return extensions


def install_observability(app: web.Application, settings: Settings) -> GatewayMetrics:
    """Metrics (and ``/metrics`` when on) and the upstream client's hooks, on ``app``; returns the
    metrics, for the parts that count into them (persisted queries)."""
    metrics = GatewayMetrics()
    app[METRICS_KEY] = metrics
    if settings.metrics:
        app.router.add_get(METRICS_PATH, metrics_handler)

    async def observe_client(app: web.Application) -> AsyncIterator[None]:
        client = app[CLIENT_KEY]
        if client.breaker is not None:
            client.breaker.add_listener(metrics.breaker_listener)
        if client.resilience is not None:
            client.resilience.add_retry_listener(metrics.record_retry)
        # Every call, background cache refreshes included (they may end after their request did).
        unlisten = client.add_call_listener(metrics.observe_upstream_call)
        uninstrument = client.instrument(instrument_upstream) if settings.otel else None
        try:
            yield
        finally:
            unlisten()
            if uninstrument is not None:
                uninstrument()

    app.cleanup_ctx.append(observe_client)  # after the client's own, so the client exists by then
    return metrics
