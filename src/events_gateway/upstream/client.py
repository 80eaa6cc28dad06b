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
reaching the same page at once), and a failure reaches every waiter. Nothing is kept once the answer
lands, so a read after a write is always fresh, and nothing is shared between sessions, so one caller's
key never serves another's request.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

import httpx
import orjson

from ..settings import SettingsError
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
from .errors import Unauthenticated, UpstreamError, UpstreamMisuse, UpstreamUnavailable
from .filters import Filter, Sort
from .resilience import (
    DECODED_BODY,
    BreakerPolicy,
    CircuitBreaker,
    ResilientTransport,
    RetryPolicy,
    origin_of,
)

logger = logging.getLogger("events_gateway.upstream")

#: One resource object as the upstream returns it, normalised: ``id`` and ``parent`` (``parent`` or the
#: list shape's ``parent_id``) are hyphenated lower-case UUID strings or ``None``; other keys as sent.
Resource: TypeAlias = dict[str, Any]

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_MAX_CONNECTIONS = 100
USER_AGENT = "events-gateway/0.1"

#: Sent on every request. Sessions build ``httpx.Request`` objects with these already merged, which
#: spares the per-call merge of ``AsyncClient.build_request`` (measured in ``bench/transport.py``).
_BASE_HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": USER_AGENT}
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


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """What one HTTP exchange cost; handed to a session's observer (call plan, metrics, round counting)."""

    method: str
    route: str  # the route template, e.g. "GET /resource/catalog", never the full URL
    status: int | None  # None when no answer came
    started: float  # time.perf_counter()
    ended: float
    batch_size: int | None = None  # keys carried by an ``in`` filter, when the caller says so


CallObserver: TypeAlias = Callable[[UpstreamCall], None]


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
        try:
            url = httpx.URL(self.base_url)
        except httpx.InvalidURL as exc:
            raise SettingsError(f"EVENTS_API_URL={self.base_url!r} is not a URL") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise SettingsError(f"EVENTS_API_URL={self.base_url!r} must be an http:// or https:// URL")
        if url.query or url.fragment:
            raise SettingsError(f"EVENTS_API_URL={self.base_url!r} must not carry a query or fragment")
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise SettingsError("upstream timeouts must be positive")
        if self.max_connections <= 0:
            raise SettingsError("max_connections must be positive")


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
        response = await super().send(request, stream=stream, **kwargs)
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
        #: The upstream's circuit breaker (its ``state(origin)`` / ``add_listener`` feed metrics), or
        #: ``None`` when a transport was given: that one is used as is, wrappers included.
        self.breaker: CircuitBreaker | None = None
        #: The retrying transport (its ``add_retry_listener`` feeds metrics), ``None`` likewise.
        self.resilience: ResilientTransport | None = None
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

    def session(self, api_key: str, *, observer: CallObserver | None = None) -> UpstreamSession:
        """A view sending ``Authorization: Bearer <api_key>``; cheap, made once per incoming request."""
        return UpstreamSession(self, api_key, observer)

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

    __slots__ = ("_client", "_headers", "_in_flight", "_key_problem", "_observer", "_write_headers")

    def __init__(self, client: UpstreamClient, api_key: str, observer: CallObserver | None = None) -> None:
        self._client = client
        self._observer = observer
        self._key_problem = _key_problem(api_key)
        authorization = "" if self._key_problem else f"Bearer {api_key}"
        self._headers = {**_BASE_HEADERS, "Authorization": authorization}
        self._write_headers = {**self._headers, "Content-Type": "application/json"}
        #: GETs on their way, by URL: later askers of the same URL wait for the same exchange.
        self._in_flight: dict[str, _InFlight] = {}

    def __repr__(self) -> str:
        return f"UpstreamSession(base_url={self._client._base!r}, api_key=<redacted>)"

    # event categories
    async def list_event_categories(self, *, title: str | None = None, page: int = 1) -> Page:
        return await self._list("/event/category", "GET /event/category", {"title": title}, page)

    async def get_event_category(self, category_id: str) -> Resource:
        return await self._get(f"/event/category/{path_id(category_id)}", "GET /event/category/{id}")

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
        return await self._list("/event/events", "GET /event/events", params, page)

    async def get_event(self, event_id: str) -> Resource:
        return await self._get(f"/event/events/{path_id(event_id)}", "GET /event/events/{id}")

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
        return await self._list("/event/event_properties", "GET /event/event_properties", params, page)

    async def get_event_property(self, property_id: str) -> Resource:
        path = f"/event/event_properties/{path_id(property_id)}"
        return await self._get(path, "GET /event/event_properties/{id}")

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
        return await self._list(
            "/resource/catalog", "GET /resource/catalog", _catalog_params(filter, sort), page, batch_size
        )

    def resources_url_length(self, *, filter: Filter | None, sort: Sort | None, page: int = 1) -> int:
        """Bytes of the URL ``list_resources`` would request, so loaders can chunk under 8 KB."""
        url = self._client._urls.text("/resource/catalog", {**_catalog_params(filter, sort), "page": page})
        return len(url.encode())

    async def get_resource(self, resource_id: str) -> Resource:
        return await self._get(f"/resource/all/{path_id(resource_id)}", "GET /resource/all/{id}")

    # integrations
    async def list_integrations(self, *, page: int = 1) -> Page:
        return await self._list("/integration/integrations", "GET /integration/integrations", {}, page)

    async def get_integration(self, integration_id: str) -> Resource:
        path = f"/integration/integrations/{path_id(integration_id)}"
        return await self._get(path, "GET /integration/integrations/{id}")

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
        response = await self._send("GET", url, route, None, batch_size)
        return self._read_page(response, route, page)

    # the exchange

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        route: str,
        body: Mapping[str, Any] | None,
        batch_size: int | None = None,
    ) -> httpx.Response:
        if self._key_problem:
            raise Unauthenticated(self._key_problem, route=route)
        if method != "GET":
            return await self._exchange(method, url, route, body, batch_size)
        key = str(url)
        shared = self._in_flight.get(key)
        if shared is None or shared.task.done() or shared.task.cancelling():
            # A task of its own, so that one waiter's cancellation does not cancel the others' call; it
            # copies this context, and with it the request's deadline.
            task = asyncio.create_task(self._exchange(method, url, route, None, batch_size))
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
    ) -> httpx.Response:
        headers = self._headers if body is None else self._write_headers
        content = None if body is None else orjson.dumps(body)
        status: int | None = None
        started = time.perf_counter()
        try:
            with map_httpx_exceptions(route):
                request = httpx.Request(method, url, headers=headers, content=content)
                response = await self._client._http.send(request)
            status = response.status_code
        finally:
            ended = time.perf_counter()
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s -> %s in %.1f ms", route, status, (ended - started) * 1000)
            if self._observer is not None:
                self._notify(UpstreamCall(method, route, status, started, ended, batch_size))
        return response

    def _notify(self, call: UpstreamCall) -> None:
        try:
            self._observer(call)  # type: ignore[misc]  # checked by the caller
        except Exception:  # an observer's bug must not fail the caller's request
            logger.exception("upstream call observer failed for %s", call.route)

    async def _list(
        self, path: str, route: str, params: Mapping[str, Any], page: int, batch_size: int | None = None
    ) -> Page:
        url = self._client._urls.url(path, {**params, "page": page})
        response = await self._send("GET", url, route, None, batch_size)
        return self._read_page(response, route, page)

    def _read_page(self, response: httpx.Response, route: str, page: int) -> Page:
        if response.status_code == 404 and page > 1:  # asked past the last page: the list has ended
            return Page(results=[], count=0, page=page, total_pages=None, next_url=None)
        body = _expect_json(response, route)
        try:
            results, count, number, total_pages, next_url = parse_page(body, requested_page=page)
        except EnvelopeError as exc:
            raise UpstreamUnavailable(MSG_UNREADABLE, route=route, status=response.status_code) from exc
        return Page(results=results, count=count, page=number, total_pages=total_pages, next_url=next_url)

    async def _get(self, path: str, route: str) -> Resource:
        response = await self._send("GET", self._client._urls.url(path), route, None)
        return _read_resource(response, route)

    async def _write(self, method: str, path: str, route: str, body: Mapping[str, Any]) -> Resource:
        response = await self._send(method, self._client._urls.url(path), route, body)
        return _read_resource(response, route)

    async def _delete(self, path: str, route: str) -> None:
        response = await self._send("DELETE", self._client._urls.url(path), route, None)
        if not response.is_success:
            raise _error(response, route)


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


def _expect_json(response: httpx.Response, route: str) -> Any:
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
        return orjson.loads(response.content)
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
