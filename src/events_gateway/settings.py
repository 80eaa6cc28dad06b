"""The gateway's settings: one frozen value object, read from the environment in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_UPSTREAM_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_MAX_CONNECTIONS = 100
#: A URL this long passes every common proxy and server (8 KB is the usual limit).
DEFAULT_MAX_URL_BYTES = 7_500
#: List Resources serves at most this many results across all its pages.
DEFAULT_CATALOG_CAP = 10_000
#: The upstream does not document its page size; this guess sizes batches until a page shows the real one.
DEFAULT_PAGE_SIZE_HINT = 50
DEFAULT_FIRST = 100
DEFAULT_MAX_FIRST = 1_000
#: Query limits (see docs/limits.md). Depth 20 admits GraphiQL's introspection query (15 levels).
DEFAULT_MAX_DEPTH = 20
DEFAULT_MAX_ALIASES = 50
#: GraphiQL's introspection query is about 180 tokens and 2 KB.
DEFAULT_MAX_TOKENS = 2_000
DEFAULT_MAX_DOCUMENT_BYTES = 32_768
#: Predicted upstream calls per request; the README's nested demo query predicts 20,202 with defaults.
DEFAULT_MAX_COST = 25_000
#: Where ``npm ci --prefix web`` puts GraphiQL and React (see the Makefile).
DEFAULT_GRAPHIQL_ASSETS = Path(__file__).resolve().parents[2] / "web" / "node_modules"
#: Automatic persisted queries kept in memory: most documents, and most UTF-8 bytes of them (16 MiB).
DEFAULT_PERSISTED_QUERIES_MAX_ENTRIES = 10_000
DEFAULT_PERSISTED_QUERIES_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_LOG_FORMAT: Literal["json", "text"] = "json"
DEFAULT_LOG_LEVEL = "INFO"
#: ``auto``: callers may ask for the upstream call plan only when ``serve`` runs the embedded emulator.
DEFAULT_UPSTREAM_PLAN: Literal["auto", "on", "off"] = "auto"
#: Seconds one GraphQL request may spend on upstream calls, retries included (``resilience.py``'s
#: ``DEFAULT_REQUEST_DEADLINE``; restated here because ``upstream`` imports this module).
DEFAULT_REQUEST_DEADLINE = 20.0
#: Attempts per idempotent upstream call, the first included (``resilience.DEFAULT_MAX_ATTEMPTS``).
DEFAULT_RETRY_MAX_ATTEMPTS = 3
#: Consecutive failed upstream attempts that open the circuit, and seconds it then stays open
#: (``resilience.DEFAULT_FAILURE_THRESHOLD`` and ``DEFAULT_COOLDOWN``).
DEFAULT_BREAKER_FAILURE_THRESHOLD = 5
DEFAULT_BREAKER_COOLDOWN = 10.0
#: The cache of upstream answers (docs/cache.md). Five seconds is how late an edit made in Secoda's own UI
#: may show, short enough for a person editing there; it still serves bursts of identical reads (a
#: dashboard's panels, many users of one page) from memory, and the gateway's own writes show at once.
DEFAULT_CACHE_TTL = 5.0
#: Seconds past the TTL an answer may still be served, marked stale, while one refresh runs or while the
#: upstream fails: a hot entry never makes a caller wait, and a minute-long upstream outage goes unseen.
DEFAULT_CACHE_STALE = 60.0
#: Bytes of answers each process keeps in memory (64 MiB: about ninety 1,105-object trees).
DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024

Batching = Literal["catalog", "per-parent"]
LogFormat = Literal["json", "text"]
UpstreamPlan = Literal["auto", "on", "off"]
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_POSITIVE = (
    "port",
    "max_connections",
    "max_url_bytes",
    "catalog_cap",
    "page_size_hint",
    "persisted_queries_max_entries",
    "persisted_queries_max_bytes",
    "cache_max_bytes",
)


class SettingsError(ValueError):
    """A setting has a value the gateway cannot run with; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the gateway can be told.

    Attributes:
        upstream_url: API root including ``/api/v1`` (``EVENTS_API_URL``); ``None`` starts the emulator.
        api_key: key for requests that carry none (``EVENTS_API_KEY``); never printed.
        host, port: where ``serve`` listens.
        upstream_timeout, connect_timeout: seconds for one upstream call, and to open a connection.
        max_connections: the process-wide upstream pool.
        batching: ``catalog`` batches each level through List Resources; ``per-parent`` uses the
            per-parent list routes (deduplicated and concurrent), for upstreams without the catalog.
        max_url_bytes: batched URLs are chunked to stay under this.
        catalog_cap: List Resources serves at most this many results for one filter.
        page_size_hint: assumed upstream page size until a response shows it.
        default_first, max_first: connection page size when ``first`` is absent, and its bound.
        max_depth, max_aliases, max_tokens, max_document_bytes: bounds on a GraphQL document, checked
            before it runs (``QUERY_TOO_COMPLEX``).
        max_cost: bound on the upstream calls a document is predicted to make (docs/limits.md).
        cors_origins: origins allowed to call ``/graphql`` from a browser (``*`` for any).
        graphiql: serve GraphiQL on ``GET /graphql`` from a browser.
        introspection: answer introspection queries.
        graphiql_assets: folder holding the ``graphiql``, ``react`` and ``react-dom`` npm packages.
        persisted_queries: accept Apollo's automatic persisted queries (``extensions.persistedQuery``).
        persisted_queries_max_entries, persisted_queries_max_bytes: bounds of the in-memory store of
            persisted queries; the least recently used are dropped first.
        metrics: serve Prometheus metrics on ``GET /metrics``.
        log_format: ``json`` (one object per line, for log shippers) or ``text`` (for a terminal).
        log_level: the lowest level ``serve`` logs (``DEBUG`` … ``CRITICAL``).
        otel: trace each GraphQL operation and each upstream call with OpenTelemetry (needs the
            ``otel`` extra; exporters are configured by the standard ``OTEL_*`` variables).
        upstream_plan: whether a caller may ask, with ``X-Upstream-Plan: 1``, for the upstream calls a
            response cost in ``extensions.upstream``: ``on``, ``off``, or ``auto`` (on only when
            ``serve`` runs the embedded emulator).
        request_deadline: seconds one GraphQL request may spend on upstream calls, shared by all its
            loaders and retries; past it, pending fields fail with ``UPSTREAM_TIMEOUT`` (docs/resilience.md).
        retry_max_attempts: attempts per idempotent upstream call, the first included (1: no retries).
        breaker_failure_threshold, breaker_cooldown: consecutive failed upstream attempts that open the
            circuit, and seconds it then fails calls fast before letting one probe through.
        cache_ttl: seconds an upstream answer is served from the cache without asking the upstream
            (``0`` turns the cache off).
        cache_stale: seconds past ``cache_ttl`` an answer may still be served, marked stale, while one
            refresh runs or while the upstream fails.
        cache_max_bytes: bytes of answers each process keeps in memory (least recently used go first).
        cache_secret: per-deployment secret callers' keys are hashed with (``EVENTS_GATEWAY_CACHE_SECRET``);
            unset: generated (per process, or once per Redis when ``redis_url`` is set); never printed.
        redis_url: Redis shared by every worker and replica (``redis://host:6379/0``): cache entries,
            generation counters, invalidation broadcast, persisted queries; never printed (it may hold
            a password).
    """

    upstream_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    batching: Batching = "catalog"
    max_url_bytes: int = DEFAULT_MAX_URL_BYTES
    catalog_cap: int = DEFAULT_CATALOG_CAP
    page_size_hint: int = DEFAULT_PAGE_SIZE_HINT
    default_first: int = DEFAULT_FIRST
    max_first: int = DEFAULT_MAX_FIRST
    max_depth: int = DEFAULT_MAX_DEPTH
    max_aliases: int = DEFAULT_MAX_ALIASES
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    max_cost: int = DEFAULT_MAX_COST
    cors_origins: tuple[str, ...] = ("*",)
    graphiql: bool = True
    introspection: bool = True
    graphiql_assets: Path = DEFAULT_GRAPHIQL_ASSETS
    persisted_queries: bool = True
    persisted_queries_max_entries: int = DEFAULT_PERSISTED_QUERIES_MAX_ENTRIES
    persisted_queries_max_bytes: int = DEFAULT_PERSISTED_QUERIES_MAX_BYTES
    metrics: bool = True
    log_format: LogFormat = DEFAULT_LOG_FORMAT
    log_level: str = DEFAULT_LOG_LEVEL
    otel: bool = False
    upstream_plan: UpstreamPlan = DEFAULT_UPSTREAM_PLAN
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    retry_max_attempts: int = DEFAULT_RETRY_MAX_ATTEMPTS
    breaker_failure_threshold: int = DEFAULT_BREAKER_FAILURE_THRESHOLD
    breaker_cooldown: float = DEFAULT_BREAKER_COOLDOWN
    cache_ttl: float = DEFAULT_CACHE_TTL
    cache_stale: float = DEFAULT_CACHE_STALE
    cache_max_bytes: int = DEFAULT_CACHE_MAX_BYTES
    cache_secret: str | None = field(default=None, repr=False)
    redis_url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.batching not in ("catalog", "per-parent"):
            raise SettingsError("EVENTS_GATEWAY_BATCHING must be 'catalog' or 'per-parent'")
        for name in _POSITIVE:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive")
        if not 0 < self.default_first <= self.max_first:
            raise SettingsError("default_first must be between 1 and max_first")
        if self.log_format not in ("json", "text"):
            raise SettingsError("EVENTS_GATEWAY_LOG_FORMAT must be 'json' or 'text'")
        if self.log_level.upper() not in _LOG_LEVELS:
            raise SettingsError(f"EVENTS_GATEWAY_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")
        if self.upstream_plan not in ("auto", "on", "off"):
            raise SettingsError("EVENTS_GATEWAY_UPSTREAM_PLAN must be 'auto', 'on' or 'off'")
        for name in ("request_deadline", "retry_max_attempts", "breaker_failure_threshold"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"EVENTS_GATEWAY_{name.upper()} must be positive")
        if self.breaker_cooldown < 0:
            raise SettingsError("EVENTS_GATEWAY_BREAKER_COOLDOWN must not be negative")
        for name in ("cache_ttl", "cache_stale"):
            if getattr(self, name) < 0:
                raise SettingsError(f"EVENTS_GATEWAY_{name.upper()} must not be negative")

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI use it)."""
        return replace(self, **changes)  # type: ignore[arg-type]  # checked by the dataclass itself

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``EVENTS_API_URL``, ``EVENTS_API_KEY`` and ``EVENTS_GATEWAY_*`` variables."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if url := env.get("EVENTS_API_URL"):
            values["upstream_url"] = url.rstrip("/")
        if key := env.get("EVENTS_API_KEY"):
            values["api_key"] = key
        for f in fields(cls):
            raw = env.get(f"EVENTS_GATEWAY_{f.name.upper()}")
            if raw is None or f.name in ("upstream_url", "api_key"):
                continue
            values[f.name] = _cast(f.name, f.type, raw)
        return cls(**values)  # type: ignore[arg-type]  # values were cast per field above


def _cast(name: str, kind: object, raw: str) -> object:
    variable = f"EVENTS_GATEWAY_{name.upper()}"
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "Path":
            return Path(raw)
        if kind == "tuple[str, ...]":
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise SettingsError(f"{variable}={raw!r} is not a valid {kind}") from exc
    return raw
