"""The typed REST client of the Secoda Events API: one async method per route.

One ``UpstreamClient`` per process owns the connection pool (one ``httpx.AsyncClient`` over aiohttp);
``client.session(api_key)`` gives a cheap view bound to one caller's key, made once per GraphQL request,
so that no key is ever shared, logged or printed.

Example::

    client = UpstreamClient(UpstreamSettings("https://api.secoda.co/api/v1"))
    upstream = client.session(api_key, observer=calls.append)
    page = await upstream.list_resources(filter=and_(exact("type", EVENT), in_("parent_id", ids)))
    while page.next_url:
        page = await upstream.follow(page.next_url)
    await client.aclose()

Every request goes to ``<base_url><route>/`` (always a trailing slash) with ids in paths normalised to
hyphenated lower case, ``Accept: application/json``, and ``Content-Type: application/json`` on writes.
Retries, circuit breaking and deadlines belong to ``resilience.ResilientTransport``, wrapped around
:func:`default_transport` when no transport is given.

A session shares identical GETs while they are in flight: a second caller asking for a URL that is
already on its way waits for that exchange instead of sending its own (two aliases, or two loaders,
reaching the same page at once), and a failure reaches every waiter.

A session given a ``cache`` (``events_gateway.cache``) asks it first, at that same GET exchange: each
successful GET answer is filed under the keyed hash of the session's key and the URL, with the scopes it
depends on (``dependencies.read_deps``), and served to later sessions of the same key while fresh, or
stale while it is refreshed. Another key's session never sees it. A 401 or 403 for the key drops every
answer filed under it. Without a cache, nothing is kept once the answer lands.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

import httpx
import orjson

from .._errors import SettingsError
from ..cache import Cache, CacheStatus, KeyHash, Scope
from ._envelope import EnvelopeError, normalise_id, normalise_resource, parse_page, path_id
from ._exceptions import (
    FIELD_ERROR_STATUSES,
    MSG_FOREIGN_LINK,
    MSG_MALFORMED_KEY,
    MSG_NO_KEY,
    MSG_UNREADABLE,
    error_for_status,
    map_httpx_exceptions,
)
from ._transport import default_transport
from ._urls import UrlBuilder
from .counts import ListCounts
from .dependencies import read_deps
from .errors import Unauthenticated, UpstreamError, UpstreamMisuse, UpstreamUnavailable
from .filters import Filter, Sort
from .projection import page_decoder
from .resilience import (
    DECODED_BODY,
    DECODER,
    BreakerPolicy,
    CircuitBreaker,
    Decoder,
    ResilientTransport,
    RetryPolicy,
    origin_of,
)

logger = logging.getLogger("events_gateway.upstream")
#: The route of the integrations list, whose pages hold integrations, not catalog resources.
_INTEGRATIONS = "GET /integration/integrations"

#: One resource object as the upstream returns it, normalised: ``id`` and ``parent`` (``parent`` or the
#: list shape's ``parent_id``) are hyphenated lower-case UUID strings or ``None``; other keys as sent.
Resource: TypeAlias = dict[str, Any]

#: Seconds for one call (read, write and pool), and to open a connection.
DEFAULT_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 3.0
#: The process-wide pool: this many calls run at once unqueued.
DEFAULT_MAX_CONNECTIONS = 100
#: What a base URL must be, worded to follow "must be" in an error message.
BASE_URL_RULE = "an http:// or https:// URL with a host and no query or fragment"
USER_AGENT = "events-gateway/0.1"

#: Sent on every request. Sessions build ``httpx.Request`` objects with these already merged, which
#: spares the per-call merge of ``AsyncClient.build_request`` (measured in ``bench/transport.py``).
_BASE_HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": USER_AGENT}
#: The upstream's answers that say the key itself is refused: everything cached for it goes.
_REFUSED_KEY = frozenset({401, 403})
#: What a GET's dependencies are computed by, when a cache needs them (``dependencies.read_deps``).
_Deps: TypeAlias = Callable[[], tuple[Scope, ...]]
#: Stands in for a response's stream once its body has been read (never iterated again: httpx reads
#: ``content`` from then on and refuses to stream a consumed body).
_READ = httpx.ByteStream(b"")
#: No body handed up by the transport (see ``_expect_json``).
_UNDECODED = object()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated list, read tolerantly (``null``, ``"None"`` or a missing key alike).

    ``count`` falls back to ``len(results)`` when the upstream omits it; ``total_pages`` stays ``None``
    when omitted. A 404 for a page past the first (the list ended) reads as an empty last page.
    """

    results: list[Resource]
    count: int
    page: int
    total_pages: int | None
    next_url: str | None


class PageSizeMemo:
    """The upstream's page size once a page has shown it; one per client, shared by its sessions (it is
    no caller's data), so every request after the first plans its pages with the real size."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        self.size: int | None = None

    def learn(self, page: Page) -> None:
        """A page that has a next page is full, so its length is the page size."""
        if page.next_url and page.results:
            self.size = len(page.results)


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """What one HTTP exchange cost; handed to a session's observer (call plan, metrics, round counting).

    A GET the cache answered is reported too, with ``cached`` set (``hit``, ``stale`` or
    ``stale_if_error``) and ``age`` the answer's age in seconds: no exchange took place, so it counts in
    no round and in no upstream metric.
    """

    method: str
    route: str  # the route template, e.g. "GET /resource/catalog", never the full URL
    status: int | None  # None when no answer came
    started: float  # time.perf_counter()
    ended: float
    batch_size: int | None = None  # keys carried by an ``in`` filter, when the caller says so
    cached: str | None = None
    age: float = 0.0


CallObserver: TypeAlias = Callable[[UpstreamCall], None]
#: Given the client's ``httpx.AsyncClient``, instruments it and returns the function that undoes that.
Instrumentation: TypeAlias = Callable[[httpx.AsyncClient], Callable[[], None]]


@dataclass(frozen=True, slots=True)
class UpstreamSettings:
    """How to reach the upstream.

    Attributes:
        base_url: API root including ``/api/v1``, e.g. ``https://api.secoda.co/api/v1``.
        timeout: seconds for one call (read, write and pool).
        connect_timeout: seconds to open a connection.
        max_connections: size of the process-wide pool; the default lets 100 calls run at once unqueued.
        retry: how idempotent calls are retried (see ``resilience.py``).
        breaker: when the upstream's circuit opens; ``None`` turns circuit breaking off.
    """

    base_url: str
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy | None = field(default_factory=BreakerPolicy)

    def __post_init__(self) -> None:
        # The gateway's ``Settings`` checks the same values under their variables' names first; these
        # guard a client built without it.
        if not is_base_url(self.base_url):
            raise SettingsError(f"base_url must be {BASE_URL_RULE}, got {self.base_url!r}")
        for name in ("timeout", "connect_timeout", "max_connections"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be a positive number, got {getattr(self, name)!r}")


def is_base_url(url: str) -> bool:
    """Whether ``url`` can be the upstream's API root: :data:`BASE_URL_RULE`."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host) and not (parsed.query or parsed.fragment)


class _NoCookies(httpx.Cookies):
    """A jar that never stores: one pool serves every caller, so a stored cookie would ride along on
    the next caller's requests. Skipping ``extract_cookies`` also spares httpx's costly ``http.cookiejar``
    pass over every response (about a fifth of its per-call time in ``bench/transport.py``)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        return None


class _CookielessClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose cookie jar is always the empty, never-storing one, and whose answers
    free their bodies as soon as the last reader drops them."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:  # ``AsyncClient.__init__`` sets an empty jar; keep ours
        return None

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        """httpx's ``send``; for the client's own calls (a whole body, no options, no event hooks) only
        what it does for this client: the default timeouts, the transport, the body read. Its auth,
        redirect and hook layers do nothing here and cost about 30 µs a call, 23 calls a tree."""
        hooks = self.event_hooks
        if stream or kwargs or hooks["request"] or hooks["response"] or self.is_closed:
            response = await super().send(request, stream=stream, **kwargs)
        else:
            if "timeout" not in request.extensions:
                request.extensions = {**request.extensions, "timeout": self.timeout.as_dict()}
            response = await self._transport_for_url(request.url).handle_async_request(request)
            response.request = request
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
        if not stream:
            # httpx binds each response to a stream that points back at it (``BoundAsyncStream``), a
            # cycle that only the cycle collector frees. Under load that collector runs seldom, and a
            # slow request's answers reach its oldest generation first, so their bodies (a page is
            # ~60 KB) piled up for minutes. The body is read by now; the bound stream has no more use.
            response.stream = _READ
        return response


_NO_COOKIES = _NoCookies()


class UpstreamClient:
    """The process-wide client: owns the one connection pool; hands out per-caller sessions."""

    def __init__(self, settings: UpstreamSettings, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        base = httpx.URL(settings.base_url)
        self._urls = UrlBuilder(base)
        self._base = self._urls.prefix
        self._base_path = base.path.rstrip("/")
        self._origin = origin_of(base)
        #: The upstream's page size as learned from its answers (``paging.Pager`` reads and teaches it).
        self.page_size_memo = PageSizeMemo()
        #: List sizes remembered per caller key (digested), so a request can plan all of a list's pages
        #: at once: ``list_counts.for_key(api_key)``.
        self.list_counts = ListCounts()
        #: The upstream's circuit breaker (its ``state(origin)`` / ``add_listener`` feed metrics), or
        #: ``None`` when a transport was given: that one is used as is, wrappers included.
        self.breaker: CircuitBreaker | None = None
        #: The retrying transport (its ``add_retry_listener`` feeds metrics), ``None`` likewise.
        self.resilience: ResilientTransport | None = None
        self._call_listeners: list[CallObserver] = []
        if transport is None:
            self.breaker = CircuitBreaker(settings.breaker) if settings.breaker is not None else None
            inner = default_transport(max_connections=settings.max_connections)
            # Every answer the client reads is JSON, so a GET whose body does not decode (cut short in
            # transit) is retried like a dropped connection, and the body is decoded only once.
            transport = self.resilience = ResilientTransport(
                inner, settings.retry, self.breaker, decode=orjson.loads
            )
        self._http = _CookielessClient(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            headers=_BASE_HEADERS,
            follow_redirects=False,  # a redirect would resend the key to wherever it points
            trust_env=False,  # proxy variables would silently swap out the transport chosen here
        )

    def __repr__(self) -> str:
        return f"UpstreamClient(base_url={self._base!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    def instrument(self, instrumentation: Instrumentation) -> Callable[[], None]:
        """Apply ``instrumentation`` to the client's own ``httpx.AsyncClient``; returns its undo function.

        The one public way to reach the pool: OpenTelemetry's httpx instrumentation wraps a given
        client's transport (its global one patches httpx's default transport, which this client never
        uses), so a tracer needs the ``httpx.AsyncClient`` itself. Example::

            uninstrument = client.instrument(instrument_upstream)
        """
        return instrumentation(self._http)

    def add_call_listener(self, listener: CallObserver) -> Callable[[], None]:
        """Hear of every call any session makes, or the cache answers for it, background refreshes
        included (metrics); returns the function that stops it. A listener's bug fails no request."""
        self._call_listeners.append(listener)
        return lambda: self._call_listeners.remove(listener)

    def session(
        self,
        api_key: str,
        *,
        observer: CallObserver | None = None,
        cache: Cache | None = None,
        read_through: bool = False,
    ) -> UpstreamSession:
        """A view sending ``Authorization: Bearer <api_key>``; cheap, made once per incoming request.

        With ``cache`` (enabled), its GETs are answered from it when they may be; ``read_through`` (the
        caller sent ``Cache-Control: no-cache``) asks the upstream every time and files the answers.
        """
        return UpstreamSession(self, api_key, observer, cache=cache, read_through=read_through)

    async def healthcheck(self) -> bool:
        """True when ``GET /healthcheck`` answers ``{"status": "OK"}``; never raises."""
        route = "GET /healthcheck"
        try:
            with map_httpx_exceptions(route):
                response = await self._http.get(f"{self._base}/healthcheck/")
            body = orjson.loads(response.content) if response.status_code == 200 else None
        except (UpstreamError, UpstreamMisuse, orjson.JSONDecodeError):
            return False
        return isinstance(body, dict) and body.get("status") == "OK"

    def _route_of(self, url: httpx.URL) -> str:
        """The route template of a followed URL: base path dropped, ids replaced by ``{id}``."""
        path = url.path
        if self._base_path and path.startswith(self._base_path + "/"):
            path = path[len(self._base_path) :]
        segments = ["{id}" if _is_uuid(s) else s for s in path.strip("/").split("/") if s]
        return "GET /" + "/".join(segments)


class UpstreamSession:
    """The routes, as seen by one caller's key. Every method raises an ``UpstreamError`` subclass."""

    __slots__ = (
        "_cache",
        "_client",
        "_dropped",
        "_headers",
        "_in_flight",
        "_key_problem",
        "_observer",
        "_write_headers",
        "key_hash",
        "oldest_answer",
        "page_decoder",
        "read_through",
        "stale",
    )

    def __init__(
        self,
        client: UpstreamClient,
        api_key: str,
        observer: CallObserver | None = None,
        *,
        cache: Cache | None = None,
        read_through: bool = False,
    ) -> None:
        self._client = client
        self._observer = observer
        self._key_problem = _key_problem(api_key)
        authorization = "" if self._key_problem else f"Bearer {api_key}"
        self._headers = {**_BASE_HEADERS, "Authorization": authorization}
        self._write_headers = {**self._headers, "Content-Type": "application/json"}
        #: GETs on their way, by URL: later askers of the same URL wait for the same exchange.
        self._in_flight: dict[str, _InFlight] = {}
        usable = cache is not None and cache.enabled and not self._key_problem
        self._cache = cache if usable else None
        #: The key as the cache files its answers (never the key itself); ``None`` without a cache.
        self.key_hash: KeyHash | None = cache.key_hash(api_key) if cache is not None and usable else None
        #: Ask the upstream for every GET (and file the answers), never answering from the cache.
        self.read_through = read_through
        self._dropped = False
        #: Seconds: the age of the oldest answer the cache served this session (0: all were fetched now).
        self.oldest_answer = 0.0
        #: Whether the cache served this session an answer past its TTL.
        self.stale = False
        #: Decodes list pages (``project``); ``None``: whole.
        self.page_decoder: Decoder | None = None

    def project(self, keys: Iterable[str] | None) -> None:
        """Keep only ``keys`` of the resources of every list page read from now on (``None``: all of
        them). For a reader that knows which keys it will read: the others are never built
        (``projection.py``); a single object, a write's answer, and the cache's bytes stay whole."""
        self.page_decoder = None if keys is None else page_decoder(keys)

    def __repr__(self) -> str:
        return f"UpstreamSession(base_url={self._client._base!r}, api_key=<redacted>)"

    @property
    def page_size_memo(self) -> PageSizeMemo:
        """The client's page-size memo: every session of one client plans with the same learned size."""
        return self._client.page_size_memo

    # event categories
    async def list_event_categories(self, *, title: str | None = None, page: int = 1) -> Page:
        route = "GET /event/category"
        return await self._list(
            "/event/category", route, {"title": title}, page, None, partial(read_deps, route)
        )

    async def get_event_category(self, category_id: str) -> Resource:
        path = f"/event/category/{path_id(category_id)}"
        return await self._get(path, "GET /event/category/{id}", category_id)

    async def create_event_category(self, body: Mapping[str, Any]) -> Resource:
        return await self._write("POST", "/event/category", "POST /event/category", body)

    # events
    async def list_events(
        self,
        *,
        title: str | None = None,
        parent_id: str | None = None,
        integration_id: str | None = None,
        page: int = 1,
    ) -> Page:
        params = _child_params(title, parent_id, integration_id)
        route = "GET /event/events"
        deps = partial(read_deps, route, parent_id=parent_id)
        return await self._list("/event/events", route, params, page, None, deps)

    async def get_event(self, event_id: str) -> Resource:
        return await self._get(f"/event/events/{path_id(event_id)}", "GET /event/events/{id}", event_id)

    async def create_event(self, body: Mapping[str, Any]) -> Resource:
        return await self._write("POST", "/event/events", "POST /event/events", body)

    async def update_event(self, event_id: str, body: Mapping[str, Any]) -> Resource:
        return await self._write(
            "PATCH", f"/event/events/{path_id(event_id)}", "PATCH /event/events/{id}", body
        )

    async def delete_event(self, event_id: str) -> None:
        await self._delete(f"/event/events/{path_id(event_id)}", "DELETE /event/events/{id}")

    # event properties
    async def list_event_properties(
        self,
        *,
        title: str | None = None,
        parent_id: str | None = None,
        integration_id: str | None = None,
        page: int = 1,
    ) -> Page:
        params = _child_params(title, parent_id, integration_id)
        route = "GET /event/event_properties"
        deps = partial(read_deps, route, parent_id=parent_id)
        return await self._list("/event/event_properties", route, params, page, None, deps)

    async def get_event_property(self, property_id: str) -> Resource:
        path = f"/event/event_properties/{path_id(property_id)}"
        return await self._get(path, "GET /event/event_properties/{id}", property_id)

    async def create_event_property(self, body: Mapping[str, Any]) -> Resource:
        return await self._write("POST", "/event/event_properties", "POST /event/event_properties", body)

    async def update_event_property(self, property_id: str, body: Mapping[str, Any]) -> Resource:
        path = f"/event/event_properties/{path_id(property_id)}"
        return await self._write("PATCH", path, "PATCH /event/event_properties/{id}", body)

    async def delete_event_property(self, property_id: str) -> None:
        path = f"/event/event_properties/{path_id(property_id)}"
        await self._delete(path, "DELETE /event/event_properties/{id}")

    # generic resources
    async def list_resources(
        self,
        *,
        filter: Filter | None = None,
        sort: Sort | None = None,
        page: int = 1,
        batch_size: int | None = None,
    ) -> Page:
        route = "GET /resource/catalog"
        deps = partial(read_deps, route, catalog_filter=filter)
        return await self._list(
            "/resource/catalog", route, _catalog_params(filter, sort), page, batch_size, deps
        )

    def resources_url_length(self, *, filter: Filter | None, sort: Sort | None, page: int = 1) -> int:
        """Bytes of the URL ``list_resources`` would request, so loaders can chunk under 8 KB."""
        url = self._client._urls.text("/resource/catalog", {**_catalog_params(filter, sort), "page": page})
        return len(url.encode())

    async def get_resource(self, resource_id: str) -> Resource:
        return await self._get(f"/resource/all/{path_id(resource_id)}", "GET /resource/all/{id}", resource_id)

    # integrations
    async def list_integrations(self, *, page: int = 1) -> Page:
        route = _INTEGRATIONS
        deps = partial(read_deps, route)
        return await self._list("/integration/integrations", route, {}, page, None, deps, project=False)

    async def get_integration(self, integration_id: str) -> Resource:
        path = f"/integration/integrations/{path_id(integration_id)}"
        return await self._get(path, "GET /integration/integrations/{id}", integration_id)

    async def follow(self, next_url: str, *, batch_size: int | None = None) -> Page:
        """GET an opaque ``links.next`` URL as given (never rebuilt).

        Refused with ``UpstreamUnavailable`` when its scheme, host or port differ from the configured
        upstream: the caller's key is never sent anywhere else. A relative link is resolved first.
        """
        client = self._client
        try:
            url = httpx.URL(client._base).join(next_url)
        except httpx.InvalidURL as exc:
            raise UpstreamUnavailable(MSG_UNREADABLE, route="GET (next link)") from exc
        route = client._route_of(url)
        if origin_of(url) != client._origin:
            raise UpstreamUnavailable(MSG_FOREIGN_LINK, route=route)
        page = _page_of(url)
        decode = None if route.startswith(_INTEGRATIONS) else self.page_decoder
        deps = partial(_link_deps, route, url)
        response = await self._send("GET", url, route, None, batch_size, deps, decode=decode)
        return self._read_page(response, route, page, decode)

    # the cache

    async def invalidate(self, scopes: Iterable[Scope]) -> None:
        """A write through this session changed ``scopes`` (``HIERARCHY.created(…)`` and friends): no
        answer computed before it is served again, to this key, in any process."""
        if self._cache is not None and self.key_hash is not None:
            await self._cache.invalidate(self.key_hash, scopes)

    # the exchange

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        route: str,
        body: Mapping[str, Any] | None,
        batch_size: int | None = None,
        deps: _Deps | None = None,
        *,
        decode: Decoder | None = None,
    ) -> httpx.Response:
        """One exchange; a GET through the cache when there is one. ``decode`` reads a list page's body
        (the session's projection), when not the transport's whole decode."""
        if self._key_problem:
            raise Unauthenticated(self._key_problem, route=route)
        if method != "GET":
            return await self._exchange(method, url, route, body, batch_size)
        cache, key_hash = self._cache, self.key_hash
        if cache is not None and key_hash is not None and deps is not None:
            return await self._cached(cache, key_hash, url, route, batch_size, deps, decode)
        return await self._shared(url, route, batch_size, decode)

    async def _cached(
        self,
        cache: Cache,
        key_hash: KeyHash,
        url: httpx.URL,
        route: str,
        batch_size: int | None,
        deps: _Deps,
        decode: Decoder | None,
    ) -> httpx.Response:
        """A GET through the cache: a successful answer is filed; any other goes to the caller unfiled.
        The body this request fetched itself is handed on decoded, as the transport decoded it."""
        fetched: list[httpx.Response] = []

        async def fetch() -> bytes:
            response = await self._shared(url, route, batch_size, decode)
            if response.status_code != 200:
                raise _Unfiled(response)
            fetched.append(response)
            return response.content

        started = time.perf_counter()
        try:
            result = await cache.get_or_fetch(
                key_hash, f"GET {url}", deps(), fetch, read_through=self.read_through
            )
        except _Unfiled as unfiled:
            return unfiled.response
        if result.from_cache:
            self.oldest_answer = max(self.oldest_answer, result.age)
            self.stale = self.stale or result.status is not CacheStatus.HIT
            ended = time.perf_counter()
            self._notify(
                UpstreamCall("GET", route, 200, started, ended, batch_size, str(result.status), result.age)
            )
        answer = httpx.Response(200, content=result.value)
        if result.status is CacheStatus.MISS and fetched:  # this request's own fetch, not a shared one
            decoded = fetched[0].extensions.pop(DECODED_BODY, _UNDECODED)
            if decoded is not _UNDECODED:
                answer.extensions[DECODED_BODY] = decoded
        return answer

    async def _shared(
        self, url: httpx.URL, route: str, batch_size: int | None, decode: Decoder | None = None
    ) -> httpx.Response:
        """A GET, shared with any identical one of this session still on its way."""
        key = str(url)
        shared = self._in_flight.get(key)
        if shared is None or shared.task.done() or shared.task.cancelling():
            # A task of its own, so that one waiter's cancellation does not cancel the others' call; it
            # copies this context, and with it the request's deadline.
            task = asyncio.create_task(self._exchange("GET", url, route, None, batch_size, decode))
            shared = self._in_flight[key] = _InFlight(task)
            task.add_done_callback(partial(self._landed, key))
        return await shared.wait()

    def _landed(self, key: str, task: asyncio.Task[httpx.Response]) -> None:
        if self._in_flight.get(key) is not None and self._in_flight[key].task is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # every waiter may have left; the outcome counts as seen all the same

    async def _exchange(
        self,
        method: str,
        url: httpx.URL,
        route: str,
        body: Mapping[str, Any] | None,
        batch_size: int | None,
        decode: Decoder | None = None,
    ) -> httpx.Response:
        headers = self._headers if body is None else self._write_headers
        content = None if body is None else orjson.dumps(body)
        extensions = {} if decode is None else {DECODER: decode}
        status: int | None = None
        started = time.perf_counter()
        try:
            with map_httpx_exceptions(route):
                request = httpx.Request(method, url, headers=headers, content=content, extensions=extensions)
                response = await self._client._http.send(request)
            status = response.status_code
            if status in _REFUSED_KEY:
                await self._drop_key()
        finally:
            ended = time.perf_counter()
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s -> %s in %.1f ms", route, status, (ended - started) * 1000)
            self._notify(UpstreamCall(method, route, status, started, ended, batch_size))
        return response

    async def _drop_key(self) -> None:
        """The upstream refused this key: nothing cached under it may be served again, anywhere."""
        if self._cache is not None and self.key_hash is not None and not self._dropped:
            self._dropped = True
            await self._cache.drop_key(self.key_hash)

    def _notify(self, call: UpstreamCall) -> None:
        """Tell the session's observer and the client's listeners (their bugs fail no request)."""
        observer = self._observer
        for hear in (*((observer,) if observer is not None else ()), *self._client._call_listeners):
            try:
                hear(call)
            except Exception:
                logger.exception("upstream call observer failed for %s", call.route)

    async def _list(
        self,
        path: str,
        route: str,
        params: Mapping[str, Any],
        page: int,
        batch_size: int | None = None,
        deps: _Deps | None = None,
        *,
        project: bool = True,
    ) -> Page:
        """One page of a list; with ``project`` (a list of catalog resources, not of integrations), its
        resources keep only the keys the session was told to keep (``UpstreamSession.project``)."""
        url = self._client._urls.url(path, {**params, "page": page})
        decode = self.page_decoder if project else None
        response = await self._send("GET", url, route, None, batch_size, deps, decode=decode)
        return self._read_page(response, route, page, decode)

    def _read_page(self, response: httpx.Response, route: str, page: int, decode: Decoder | None) -> Page:
        if response.status_code == 404 and page > 1:  # asked past the last page: the list has ended
            return Page(results=[], count=0, page=page, total_pages=None, next_url=None)
        body = _expect_json(response, route, decode)
        try:
            results, count, number, total_pages, next_url = parse_page(body, requested_page=page)
        except EnvelopeError as exc:
            raise UpstreamUnavailable(MSG_UNREADABLE, route=route, status=response.status_code) from exc
        return Page(results=results, count=count, page=number, total_pages=total_pages, next_url=next_url)

    async def _get(self, path: str, route: str, object_id: str) -> Resource:
        deps = partial(read_deps, route, object_id=object_id)
        response = await self._send("GET", self._client._urls.url(path), route, None, None, deps)
        return _read_resource(response, route)

    async def _write(self, method: str, path: str, route: str, body: Mapping[str, Any]) -> Resource:
        response = await self._send(method, self._client._urls.url(path), route, body)
        return _read_resource(response, route)

    async def _delete(self, path: str, route: str) -> None:
        response = await self._send("DELETE", self._client._urls.url(path), route, None)
        if not response.is_success:
            raise _error(response, route)


class _Unfiled(Exception):
    """A GET answer the cache must not file (any status but 200), carried out to the caller as it came."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class _InFlight:
    """One GET on its way and how many callers await it; the call is cancelled only when all have left."""

    __slots__ = ("task", "waiters")

    def __init__(self, task: asyncio.Task[httpx.Response]) -> None:
        self.task = task
        self.waiters = 0

    async def wait(self) -> httpx.Response:
        self.waiters += 1
        try:
            return await asyncio.shield(self.task)
        except asyncio.CancelledError:
            if self.waiters == 1 and not self.task.done():  # the last waiter left: nobody wants the answer
                self.task.cancel()
            raise
        finally:
            self.waiters -= 1


def _read_resource(response: httpx.Response, route: str) -> Resource:
    body = _expect_json(response, route)
    try:
        return normalise_resource(body)
    except EnvelopeError as exc:
        raise UpstreamUnavailable(MSG_UNREADABLE, route=route, status=response.status_code) from exc


def _expect_json(response: httpx.Response, route: str, decode: Decoder | None = None) -> Any:
    """The decoded body of a 2xx answer; any other status raises its mapped error.

    The resilient transport hands up the body it already decoded; the first reader takes it (a shared
    GET's other waiters decode their own copy, since readers normalise what they get in place).
    """
    if not response.is_success:
        raise _error(response, route)
    decoded = response.extensions.pop(DECODED_BODY, _UNDECODED)
    if decoded is not _UNDECODED:
        return decoded
    try:
        return orjson.loads(response.content) if decode is None else decode(response.content)
    except orjson.JSONDecodeError as exc:
        raise UpstreamUnavailable(MSG_UNREADABLE, route=route, status=response.status_code) from exc


def _error(response: httpx.Response, route: str) -> UpstreamError:
    body: Any = None
    if response.status_code in FIELD_ERROR_STATUSES:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
    return error_for_status(
        response.status_code, route=route, body=body, retry_after=response.headers.get("Retry-After")
    )


def _catalog_params(filter: Filter | None, sort: Sort | None) -> dict[str, Any]:
    """``filter`` and ``sort`` as compact JSON (``orjson`` writes no spaces), ready for the query."""
    return {
        "filter": None if filter is None else orjson.dumps(filter).decode(),
        "sort": None if sort is None else orjson.dumps(sort).decode(),
    }


def _child_params(title: str | None, parent_id: str | None, integration_id: str | None) -> dict[str, Any]:
    """The filters both child lists (events, event properties) take, with ids in their canonical form."""
    return {"title": title, "parent_id": _query_id(parent_id), "integration_id": _query_id(integration_id)}


def _query_id(value: str | None) -> str | None:
    return None if value is None else str(normalise_id(value))


def _key_problem(api_key: str) -> str | None:
    """Why a key cannot be sent (missing, or not a valid header value), or ``None`` when it can."""
    if not api_key:
        return MSG_NO_KEY
    if not all("!" <= ch <= "~" for ch in api_key):
        return MSG_MALFORMED_KEY
    return None


def _link_deps(route: str, url: httpx.URL) -> tuple[Scope, ...]:
    """What a followed next link's answer depends on, read back from its query (``read_deps``)."""
    params = dict(parse_qsl(url.query.decode("ascii", "replace")))
    catalog_filter: Any = None
    if "filter" in params:
        try:
            catalog_filter = orjson.loads(params["filter"])
        except orjson.JSONDecodeError:
            catalog_filter = None  # unreadable: the widest scopes
    return read_deps(route, parent_id=params.get("parent_id"), catalog_filter=catalog_filter)


def _page_of(url: httpx.URL) -> int:
    for key, value in parse_qsl(url.query.decode("ascii", "replace")):
        if key == "page" and value.isdigit():
            return int(value)
    return 1


def _is_uuid(segment: str) -> bool:
    try:
        uuid.UUID(segment)
    except ValueError:
        return False
    return True
