"""The gateway's settings: one frozen value object, read from the environment in one place.

``Settings`` holds every setting and its default. ``Settings.from_env`` reads the environment through one
explicit table, ``ENVIRONMENT`` (variable → field and cast). ``Settings.__post_init__`` checks every value,
so a bad one fails at construction (``Settings(max_cost=0)`` included), with a ``SettingsError`` whose
message names the environment variable and the value: ``EVENTS_GATEWAY_MAX_COST must be a positive
integer, got 0``.

Adding a setting touches four places here and one in the README:

1. a ``DEFAULT_<FIELD>`` constant below (a literal ``True``/``False`` will do for a switch), or an import
   of the default from the module that owns the behaviour, as for the upstream's; never restate one;
2. a field ``<field>: <type> = DEFAULT_<FIELD>`` on ``Settings``, and a line in its ``Attributes:``;
3. a row ``Variable("EVENTS_GATEWAY_<FIELD>", "<field>", <cast>)`` in ``ENVIRONMENT``, with one of the
   casts ``INTEGER``, ``NUMBER``, ``BOOLEAN``, ``TEXT``, ``TEXT_LIST``, ``PATH`` (or a new ``Cast``);
4. its check in ``Settings.__post_init__``: the field's name in ``_POSITIVE_INTEGERS`` or
   ``_POSITIVE_NUMBERS``, or one ``require("<field>", <condition>, "<what it must be>")`` line;
5. a row in README's settings table (``tests/server/test_readme.py`` fails without it).

``tests/test_settings.py`` checks that every field has exactly one variable and that the checks and casts
speak in the one message style.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal, get_args

from ._errors import SettingsError as SettingsError  # the public spelling: events_gateway.settings
from .cache import DEFAULT_CACHE_MAX_BYTES, DEFAULT_CACHE_STALE, DEFAULT_CACHE_TTL
from .upstream import BASE_URL_RULE, is_base_url

# The upstream package's own defaults, named after the fields they serve.
from .upstream import DEFAULT_CONNECT_TIMEOUT as DEFAULT_CONNECT_TIMEOUT
from .upstream import DEFAULT_COOLDOWN as DEFAULT_BREAKER_COOLDOWN
from .upstream import DEFAULT_FAILURE_THRESHOLD as DEFAULT_BREAKER_FAILURE_THRESHOLD
from .upstream import DEFAULT_MAX_ATTEMPTS as DEFAULT_RETRY_MAX_ATTEMPTS
from .upstream import DEFAULT_MAX_CONNECTIONS as DEFAULT_MAX_CONNECTIONS
from .upstream import DEFAULT_REQUEST_DEADLINE as DEFAULT_REQUEST_DEADLINE
from .upstream import DEFAULT_TIMEOUT as DEFAULT_UPSTREAM_TIMEOUT

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_BATCHING: Literal["catalog", "per-parent"] = "catalog"
#: Read a complete set's children by type alone alongside their parents, and plan pages from remembered
#: counts (``graph/planner.py``); off, every level waits for its parents' ids.
DEFAULT_PLAN_AHEAD = True
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
#: Predicted upstream calls per request; the README's nested demo query predicts 20,204 with defaults.
DEFAULT_MAX_COST = 25_000
DEFAULT_CORS_ORIGINS: tuple[str, ...] = ()
#: ``Host`` names served besides loopback ones (see ``server/hosts.py``); none by default.
DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = ()
#: Where ``npm ci --prefix web`` puts GraphiQL and React in a source checkout (see the Makefile); an
#: installed wheel carries a copy of the files served (``make dist``), used when there is no checkout.
CHECKOUT_GRAPHIQL_ASSETS = Path(__file__).resolve().parents[2] / "web" / "node_modules"
PACKAGED_GRAPHIQL_ASSETS = Path(__file__).resolve().parent / "server" / "assets"
DEFAULT_GRAPHIQL_ASSETS = (
    PACKAGED_GRAPHIQL_ASSETS
    if PACKAGED_GRAPHIQL_ASSETS.is_dir() and not CHECKOUT_GRAPHIQL_ASSETS.is_dir()
    else CHECKOUT_GRAPHIQL_ASSETS
)
#: Automatic persisted queries kept in memory: most documents, and most UTF-8 bytes of them (16 MiB).
DEFAULT_PERSISTED_QUERIES_MAX_ENTRIES = 10_000
DEFAULT_PERSISTED_QUERIES_MAX_BYTES = 16 * 1024 * 1024
#: Live queries (docs/live.md). Seconds between two polls of one live query: each distinct query (key,
#: document, variables) polls once per interval however many subscribe, and the gateway's own writes
#: re-run it at once, so the interval only bounds how late an edit made elsewhere (Secoda's UI) shows.
#: The demo tree costs 23 upstream calls, so 5 s is about 4.6 GETs a second per distinct query: far from
#: the 30-per-minute budget that only writes are documented to have.
DEFAULT_LIVE_INTERVAL = 5.0
#: Subscriptions on one WebSocket, and held by one key across the process (each tab of a team's
#: dashboard is one; a hundred open views of one workspace must fit).
DEFAULT_LIVE_MAX_PER_CONNECTION = 100
DEFAULT_LIVE_MAX_PER_KEY = 500
#: Seconds a WebSocket may stay open without ``connection_init``; seconds between keep-alive pings
#: (WebSocket ``ping`` messages, SSE comments) that keep idle proxies from closing a quiet stream.
DEFAULT_LIVE_INIT_TIMEOUT = 10.0
DEFAULT_LIVE_KEEPALIVE = 15.0
DEFAULT_LOG_FORMAT: Literal["json", "text"] = "json"
DEFAULT_LOG_LEVEL = "INFO"
#: ``auto``: callers may ask for the upstream call plan only when ``serve`` runs the embedded emulator.
DEFAULT_UPSTREAM_PLAN: Literal["auto", "on", "off"] = "auto"
#: Batched requests: most operations one JSON array on ``POST /graphql`` may hold (docs/http.md).
DEFAULT_MAX_BATCH = 10

Batching = Literal["catalog", "per-parent"]
LogFormat = Literal["json", "text"]
UpstreamPlan = Literal["auto", "on", "off"]
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: Fields that must be positive integers, and positive numbers (seconds).
_POSITIVE_INTEGERS = (
    "port",
    "max_connections",
    "max_url_bytes",
    "catalog_cap",
    "live_max_per_connection",
    "live_max_per_key",
    "page_size_hint",
    "max_first",
    "max_depth",
    "max_aliases",
    "max_tokens",
    "max_document_bytes",
    "max_cost",
    "persisted_queries_max_entries",
    "persisted_queries_max_bytes",
    "retry_max_attempts",
    "breaker_failure_threshold",
    "max_batch",
    "cache_max_bytes",
)
_POSITIVE_NUMBERS = (
    "upstream_timeout",
    "connect_timeout",
    "request_deadline",
    "live_interval",
    "live_init_timeout",
    "live_keepalive",
)


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
        plan_ahead: with ``catalog`` batching, read the children of a complete set of parents by type
            alone in the same round as the parents, and plan every page from the counts each key's
            earlier requests showed (kept in memory, per key, digested); off, each level waits for the
            ids of the one above.
        max_url_bytes: batched URLs are chunked to stay under this.
        catalog_cap: List Resources serves at most this many results for one filter.
        page_size_hint: assumed upstream page size until a response shows it.
        default_first, max_first: connection page size when ``first`` is absent, and its bound.
        max_depth, max_aliases, max_tokens, max_document_bytes: bounds on a GraphQL document, checked
            before it runs (``QUERY_TOO_COMPLEX``).
        max_cost: bound on the upstream calls a document is predicted to make (docs/limits.md).
        cors_origins: origins allowed to call ``/graphql`` from a browser (``*`` for any); none by default,
            since the gateway's own page needs no CORS.
        allowed_hosts: ``Host`` names (each with or without a port; ``*`` for any) served besides the
            loopback ones; on a loopback bind only loopback and listed names are served, elsewhere the list
            applies when it is set (DNS-rebinding protection, see ``server/browser_safety.py``).
        graphiql: serve GraphiQL on ``GET /graphql`` from a browser.
        introspection: answer introspection queries.
        graphiql_assets: folder holding the npm packages GraphiQL's page serves (``graphiql``, ``react``,
            ``react-dom``, ``@graphiql/plugin-explorer``): ``web/node_modules``, or the wheel's copy.
        persisted_queries: accept Apollo's automatic persisted queries (``extensions.persistedQuery``).
        persisted_queries_max_entries, persisted_queries_max_bytes: bounds of the in-memory store of
            persisted queries; the least recently used are dropped first.
        live_interval: seconds between two polls of one live query (a subscription); the gateway's own
            writes re-run the live queries they change at once.
        live_max_per_connection, live_max_per_key: subscriptions one WebSocket may carry, and one API
            key may hold across the process.
        live_init_timeout: seconds a WebSocket may wait before its ``connection_init``.
        live_keepalive: seconds between keep-alive pings on WebSocket and SSE streams.
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
        max_batch: most operations in one batched request (a JSON array on ``POST /graphql``); they share
            one set of loaders and one cost budget (docs/http.md).
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
    batching: Batching = DEFAULT_BATCHING
    plan_ahead: bool = DEFAULT_PLAN_AHEAD
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
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    graphiql: bool = True
    introspection: bool = True
    graphiql_assets: Path = DEFAULT_GRAPHIQL_ASSETS
    persisted_queries: bool = True
    persisted_queries_max_entries: int = DEFAULT_PERSISTED_QUERIES_MAX_ENTRIES
    persisted_queries_max_bytes: int = DEFAULT_PERSISTED_QUERIES_MAX_BYTES
    live_interval: float = DEFAULT_LIVE_INTERVAL
    live_max_per_connection: int = DEFAULT_LIVE_MAX_PER_CONNECTION
    live_max_per_key: int = DEFAULT_LIVE_MAX_PER_KEY
    live_init_timeout: float = DEFAULT_LIVE_INIT_TIMEOUT
    live_keepalive: float = DEFAULT_LIVE_KEEPALIVE
    metrics: bool = True
    log_format: LogFormat = DEFAULT_LOG_FORMAT
    log_level: str = DEFAULT_LOG_LEVEL
    otel: bool = False
    upstream_plan: UpstreamPlan = DEFAULT_UPSTREAM_PLAN
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    retry_max_attempts: int = DEFAULT_RETRY_MAX_ATTEMPTS
    breaker_failure_threshold: int = DEFAULT_BREAKER_FAILURE_THRESHOLD
    breaker_cooldown: float = DEFAULT_BREAKER_COOLDOWN
    max_batch: int = DEFAULT_MAX_BATCH
    cache_ttl: float = DEFAULT_CACHE_TTL
    cache_stale: float = DEFAULT_CACHE_STALE
    cache_max_bytes: int = DEFAULT_CACHE_MAX_BYTES
    cache_secret: str | None = field(default=None, repr=False)
    redis_url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Every check of every setting: a value that fails one never makes a ``Settings``."""
        require = self._require
        url = self.upstream_url
        require("upstream_url", url is None or is_base_url(url), BASE_URL_RULE)
        for name in _POSITIVE_INTEGERS:
            require(name, getattr(self, name) > 0, "a positive integer")
        for name in _POSITIVE_NUMBERS:
            require(name, getattr(self, name) > 0, "a positive number")
        require(
            "default_first",
            0 < self.default_first <= self.max_first,
            f"between 1 and EVENTS_GATEWAY_MAX_FIRST ({self.max_first})",
        )
        require("batching", self.batching in get_args(Batching), _one_of(get_args(Batching)))
        require("log_format", self.log_format in get_args(LogFormat), _one_of(get_args(LogFormat)))
        require("log_level", self.log_level.upper() in _LOG_LEVELS, _one_of(_LOG_LEVELS))
        require(
            "upstream_plan", self.upstream_plan in get_args(UpstreamPlan), _one_of(get_args(UpstreamPlan))
        )
        require("breaker_cooldown", self.breaker_cooldown >= 0, "zero or a positive number")
        for name in ("cache_ttl", "cache_stale"):
            require(name, getattr(self, name) >= 0, "zero or a positive number")

    def _require(self, name: str, holds: bool, expected: str) -> None:
        """Raise the one-style error for field ``name`` unless ``holds``."""
        if not holds:
            value = getattr(self, name)
            raise SettingsError(f"{VARIABLES[name]} must be {expected}, got {_shown(name, value)}")

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI use it)."""
        return replace(self, **changes)  # type: ignore[arg-type]  # checked by the dataclass itself

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every variable of ``ENVIRONMENT`` that is set; the others keep their defaults."""
        env = os.environ if environ is None else environ
        values = {v.field: v.read(env[v.name]) for v in ENVIRONMENT if v.name in env}
        return cls(**values)  # type: ignore[arg-type]  # each value was cast for its field by the table


@dataclass(frozen=True, slots=True)
class Cast:
    """How a variable's text becomes a field's value; ``expected`` completes "must be …" when it cannot."""

    parse: Callable[[str], object]
    expected: str


def _boolean(raw: str) -> bool:
    word = raw.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _text_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


INTEGER = Cast(int, "an integer")
NUMBER = Cast(float, "a number")
BOOLEAN = Cast(_boolean, "true or false (or 1/0, yes/no, on/off)")
TEXT = Cast(str, "text")
TEXT_LIST = Cast(_text_list, "a comma-separated list")
PATH = Cast(Path, "a path")
#: An empty variable counts as unset; an API root is kept without its trailing slash.
OPTIONAL_TEXT = Cast(lambda raw: raw or None, "text")
API_ROOT = Cast(lambda raw: raw.rstrip("/") or None, "a URL")


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable: the ``Settings`` field it sets and how its text is cast."""

    name: str
    field: str
    cast: Cast

    def read(self, raw: str) -> object:
        try:
            return self.cast.parse(raw)
        except ValueError:
            raise SettingsError(f"{self.name} must be {self.cast.expected}, got {raw!r}") from None


#: Every variable the gateway reads, one row per ``Settings`` field, in the order of the fields.
ENVIRONMENT: tuple[Variable, ...] = (
    Variable("EVENTS_API_URL", "upstream_url", API_ROOT),
    Variable("EVENTS_API_KEY", "api_key", OPTIONAL_TEXT),
    Variable("EVENTS_GATEWAY_HOST", "host", TEXT),
    Variable("EVENTS_GATEWAY_PORT", "port", INTEGER),
    Variable("EVENTS_GATEWAY_UPSTREAM_TIMEOUT", "upstream_timeout", NUMBER),
    Variable("EVENTS_GATEWAY_CONNECT_TIMEOUT", "connect_timeout", NUMBER),
    Variable("EVENTS_GATEWAY_MAX_CONNECTIONS", "max_connections", INTEGER),
    Variable("EVENTS_GATEWAY_BATCHING", "batching", TEXT),
    Variable("EVENTS_GATEWAY_PLAN_AHEAD", "plan_ahead", BOOLEAN),
    Variable("EVENTS_GATEWAY_MAX_URL_BYTES", "max_url_bytes", INTEGER),
    Variable("EVENTS_GATEWAY_CATALOG_CAP", "catalog_cap", INTEGER),
    Variable("EVENTS_GATEWAY_PAGE_SIZE_HINT", "page_size_hint", INTEGER),
    Variable("EVENTS_GATEWAY_DEFAULT_FIRST", "default_first", INTEGER),
    Variable("EVENTS_GATEWAY_MAX_FIRST", "max_first", INTEGER),
    Variable("EVENTS_GATEWAY_MAX_DEPTH", "max_depth", INTEGER),
    Variable("EVENTS_GATEWAY_MAX_ALIASES", "max_aliases", INTEGER),
    Variable("EVENTS_GATEWAY_MAX_TOKENS", "max_tokens", INTEGER),
    Variable("EVENTS_GATEWAY_MAX_DOCUMENT_BYTES", "max_document_bytes", INTEGER),
    Variable("EVENTS_GATEWAY_MAX_COST", "max_cost", INTEGER),
    Variable("EVENTS_GATEWAY_CORS_ORIGINS", "cors_origins", TEXT_LIST),
    Variable("EVENTS_GATEWAY_ALLOWED_HOSTS", "allowed_hosts", TEXT_LIST),
    Variable("EVENTS_GATEWAY_GRAPHIQL", "graphiql", BOOLEAN),
    Variable("EVENTS_GATEWAY_INTROSPECTION", "introspection", BOOLEAN),
    Variable("EVENTS_GATEWAY_GRAPHIQL_ASSETS", "graphiql_assets", PATH),
    Variable("EVENTS_GATEWAY_PERSISTED_QUERIES", "persisted_queries", BOOLEAN),
    Variable("EVENTS_GATEWAY_PERSISTED_QUERIES_MAX_ENTRIES", "persisted_queries_max_entries", INTEGER),
    Variable("EVENTS_GATEWAY_PERSISTED_QUERIES_MAX_BYTES", "persisted_queries_max_bytes", INTEGER),
    Variable("EVENTS_GATEWAY_LIVE_INTERVAL", "live_interval", NUMBER),
    Variable("EVENTS_GATEWAY_LIVE_MAX_PER_CONNECTION", "live_max_per_connection", INTEGER),
    Variable("EVENTS_GATEWAY_LIVE_MAX_PER_KEY", "live_max_per_key", INTEGER),
    Variable("EVENTS_GATEWAY_LIVE_INIT_TIMEOUT", "live_init_timeout", NUMBER),
    Variable("EVENTS_GATEWAY_LIVE_KEEPALIVE", "live_keepalive", NUMBER),
    Variable("EVENTS_GATEWAY_METRICS", "metrics", BOOLEAN),
    Variable("EVENTS_GATEWAY_LOG_FORMAT", "log_format", TEXT),
    Variable("EVENTS_GATEWAY_LOG_LEVEL", "log_level", TEXT),
    Variable("EVENTS_GATEWAY_OTEL", "otel", BOOLEAN),
    Variable("EVENTS_GATEWAY_UPSTREAM_PLAN", "upstream_plan", TEXT),
    Variable("EVENTS_GATEWAY_REQUEST_DEADLINE", "request_deadline", NUMBER),
    Variable("EVENTS_GATEWAY_RETRY_MAX_ATTEMPTS", "retry_max_attempts", INTEGER),
    Variable("EVENTS_GATEWAY_BREAKER_FAILURE_THRESHOLD", "breaker_failure_threshold", INTEGER),
    Variable("EVENTS_GATEWAY_BREAKER_COOLDOWN", "breaker_cooldown", NUMBER),
    Variable("EVENTS_GATEWAY_MAX_BATCH", "max_batch", INTEGER),
    Variable("EVENTS_GATEWAY_CACHE_TTL", "cache_ttl", NUMBER),
    Variable("EVENTS_GATEWAY_CACHE_STALE", "cache_stale", NUMBER),
    Variable("EVENTS_GATEWAY_CACHE_MAX_BYTES", "cache_max_bytes", INTEGER),
    Variable("EVENTS_GATEWAY_CACHE_SECRET", "cache_secret", OPTIONAL_TEXT),
    Variable("EVENTS_GATEWAY_REDIS_URL", "redis_url", OPTIONAL_TEXT),
)

#: Field name → its environment variable, for messages.
VARIABLES: Mapping[str, str] = {variable.field: variable.name for variable in ENVIRONMENT}
#: Fields whose value no message may show (``repr=False`` on the field).
_SECRET = frozenset(f.name for f in fields(Settings) if not f.repr)


def _shown(name: str, value: object) -> str:
    return "a value that is not shown" if name in _SECRET else repr(value)


def _one_of(choices: tuple[str, ...]) -> str:
    return "one of " + ", ".join(repr(choice) for choice in choices)
