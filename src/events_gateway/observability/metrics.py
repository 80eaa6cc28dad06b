"""Prometheus metrics of one gateway: requests, upstream calls, loader batches, retries, circuits, APQ,
live queries and the cache.

Each application gets its own ``CollectorRegistry`` (not the process-global default), so two apps in one
process (tests, an embedding application) never collide or mix their figures.

Label values are bounded: operation names are client-chosen, so only names that look like GraphQL names
count, and past :data:`MAX_OPERATION_NAMES` distinct ones the rest are counted as ``other``; routes are
templates (``GET /event/events/{id}``), never URLs.

Hooks for the upstream's resilience layer::

    metrics.record_retry(origin, reason)              # one retry of one upstream request
    metrics.set_breaker_state(origin, "open")         # or pass metrics.breaker_listener to the breaker

and for the cache (it is a ``cache.CacheObserver``)::

    metrics.record_cache_event("memory", "hit")
    metrics.record_cache_redis_error("get")

and what the cache answered: whole operations (``record_operation_cache("hit")``), and upstream GETs
served instead of the upstream (an ``UpstreamCall`` with ``cached`` set, to ``observe_upstream_call``).
"""

from __future__ import annotations

import re
import threading

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ..upstream import UpstreamCall

__all__ = [
    "BREAKER_STATES",
    "CONTENT_TYPE",
    "MAX_OPERATION_NAMES",
    "GatewayMetrics",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: Distinct operation names labelled as themselves; later ones are counted as ``other``.
MAX_OPERATION_NAMES = 200
BREAKER_STATES = ("closed", "open", "half_open")
ANONYMOUS = "anonymous"
OTHER = "other"
#: Seconds: a request spans ~1 ms (all cached) to the upstream deadline (20 s).
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
UPSTREAM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Keys per batched call: the catalog's ``in`` filter carries up to a few hundred ids per URL.
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
#: Sequential rounds of upstream calls per request: 0 (nothing fetched) to a deep query's dozen or so.
ROUND_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20)
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


class GatewayMetrics:
    """The collectors of one gateway, registered in their own registry.

    Example::

        metrics = GatewayMetrics()
        metrics.observe_request("CategoriesEventsProperties", "ok", 0.042)
        body = metrics.render()          # Prometheus text format, served on /metrics
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "events_gateway_graphql_requests",
            "GraphQL requests served, by operation name and outcome (ok, or the first error's code).",
            ["operation", "outcome"],
            registry=r,
        )
        self.request_duration = Histogram(
            "events_gateway_graphql_request_duration_seconds",
            "Time to serve a GraphQL request, from its arrival to its response.",
            ["operation"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.upstream_rounds = Histogram(
            "events_gateway_upstream_rounds",
            "Sequential rounds of upstream calls one GraphQL request waited for (overlapping calls are one).",
            ["operation"],
            buckets=ROUND_BUCKETS,
            registry=r,
        )
        self.upstream_calls = Counter(
            "events_gateway_upstream_calls",
            "Upstream REST calls, by route template and HTTP status (none: no answer came).",
            ["route", "status"],
            registry=r,
        )
        self.upstream_duration = Histogram(
            "events_gateway_upstream_call_duration_seconds",
            "Time of one upstream call, retries included.",
            ["route"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "events_gateway_loader_batch_size",
            "Keys one batched upstream call carried.",
            ["route"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "events_gateway_upstream_retries",
            "Upstream requests sent again, by origin and the reason (a status or an error class).",
            ["origin", "reason"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "events_gateway_upstream_circuit_state",
            "1 for the state each upstream origin's circuit is in, 0 for the others.",
            ["origin", "state"],
            registry=r,
        )
        self.live_subscriptions = Gauge(
            "events_gateway_live_subscriptions",
            "Subscriptions open now, over WebSocket and SSE.",
            registry=r,
        )
        self.live_queries = Gauge(
            "events_gateway_live_queries",
            "Live queries polling now: one per distinct (key, document, variables), however many subscribe.",
            registry=r,
        )
        self.live_polls = Counter(
            "events_gateway_live_polls",
            "Live query runs, by what started one (first, interval, write) and whether its answer changed.",
            ["reason", "changed"],
            registry=r,
        )
        self.live_pushes = Counter(
            "events_gateway_live_pushes",
            "Changed results handed to subscribers, one per subscriber.",
            registry=r,
        )
        self.live_push_latency = Histogram(
            "events_gateway_live_push_latency_seconds",
            "From a write through the gateway to the changed result handed to the live queries it changed.",
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.persisted_queries = Counter(
            "events_gateway_persisted_queries",
            "Automatic persisted query lookups and registrations: hit, miss, registered, rejected.",
            ["outcome"],
            registry=r,
        )
        self.cache_events = Counter(
            "events_gateway_cache_events",
            "Cache events by tier (memory, redis, none) and event (hit, stale, miss, bypass, refresh, "
            "refresh_error, invalidation, drop).",
            ["tier", "event"],
            registry=r,
        )
        self.cache_operations = Counter(
            "events_gateway_cache_operations",
            "Whole query results looked up in the operation cache, by status: hit, stale and stale_if_error "
            "were served without executing; miss was executed (and filed); bypass was executed, the cache "
            "being unusable.",
            ["status"],
            registry=r,
        )
        self.cache_answers = Counter(
            "events_gateway_cache_answers",
            "Upstream GETs the cache answered instead of the upstream, by route template and status (hit, "
            "stale, stale_if_error); the others are in events_gateway_upstream_calls_total.",
            ["route", "status"],
            registry=r,
        )
        self.cache_redis_errors = Counter(
            "events_gateway_cache_redis_errors",
            "Redis commands that failed or timed out, by operation; each was answered without Redis.",
            ["operation"],
            registry=r,
        )
        self._operations: set[str] = set()
        self._lock = threading.Lock()

    def operation_label(self, name: str | None) -> str:
        """The label an operation name is counted under (bounded, see the module docstring)."""
        if not name:
            return ANONYMOUS
        if _NAME.fullmatch(name) is None:
            return OTHER
        if name in self._operations:
            return name
        with self._lock:
            if len(self._operations) >= MAX_OPERATION_NAMES:
                return OTHER
            self._operations.add(name)
        return name

    def observe_request(self, operation: str | None, outcome: str, seconds: float) -> None:
        label = self.operation_label(operation)
        self.requests.labels(label, outcome).inc()
        self.request_duration.labels(label).observe(seconds)

    def observe_rounds(self, operation: str | None, rounds: int) -> None:
        """One GraphQL request's sequential rounds of upstream calls (``call_plan.rounds_of``)."""
        self.upstream_rounds.labels(self.operation_label(operation)).observe(rounds)

    def observe_upstream_call(self, call: UpstreamCall) -> None:
        """One upstream call (``UpstreamClient.add_call_listener``), or one GET the cache answered."""
        if call.cached is not None:
            self.cache_answers.labels(call.route, call.cached).inc()
            return
        status = "none" if call.status is None else str(call.status)
        self.upstream_calls.labels(call.route, status).inc()
        self.upstream_duration.labels(call.route).observe(max(0.0, call.ended - call.started))
        if call.batch_size is not None:
            self.batch_size.labels(call.route).observe(call.batch_size)

    def record_retry(self, origin: str, reason: str) -> None:
        """Hook for the resilience layer: one request to ``origin`` is being sent again."""
        self.retries.labels(origin, reason).inc()

    def set_breaker_state(self, origin: str, state: str) -> None:
        """Hook for the circuit breaker: ``origin``'s circuit is now ``state`` (closed, open, half_open)."""
        for known in BREAKER_STATES:
            self.breaker_state.labels(origin, known).set(1.0 if known == str(state) else 0.0)

    def breaker_listener(self, origin: str, old: object, new: object) -> None:
        """``CircuitBreaker.add_listener`` signature: ``(origin, old, new)``."""
        self.set_breaker_state(origin, str(new))

    def record_live_poll(self, reason: str, changed: bool) -> None:
        """Hook for live queries: one run, started by ``first``, ``interval`` or ``write``."""
        self.live_polls.labels(reason, "true" if changed else "false").inc()

    def record_live_push(self, subscribers: int, latency: float | None) -> None:
        """Hook for live queries: a changed result handed to ``subscribers``, ``latency`` s after a write."""
        self.live_pushes.inc(subscribers)
        if latency is not None:
            self.live_push_latency.observe(latency)

    def set_live_counts(self, subscriptions: int, queries: int) -> None:
        """Hook for live queries: subscriptions open and live queries polling, now."""
        self.live_subscriptions.set(subscriptions)
        self.live_queries.set(queries)

    def record_persisted_query(self, outcome: str) -> None:
        self.persisted_queries.labels(outcome).inc()

    def record_cache_event(self, tier: str, event: str) -> None:
        """Hook for the cache (``cache.CacheObserver``): one event of one tier."""
        self.cache_events.labels(tier, event).inc()

    def record_operation_cache(self, status: str) -> None:
        """One whole operation looked up in the operation cache (``cache.CacheStatus`` values)."""
        self.cache_operations.labels(status).inc()

    def record_cache_redis_error(self, operation: str) -> None:
        """Hook for the cache and every Redis user: one failed Redis command."""
        self.cache_redis_errors.labels(operation).inc()

    def render(self) -> bytes:
        """Every collector in the Prometheus text exposition format."""
        return generate_latest(self.registry)
