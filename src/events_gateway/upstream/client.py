"""The typed REST client of the Secoda Events API: one async method per route.

CONTRACT STUB — bodies to be written. Signatures are what the graph layer codes against.

One ``UpstreamClient`` per process owns the connection pool; ``client.session(api_key)`` gives a cheap
view bound to one caller's key, made once per GraphQL request, so that no key is ever shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpx

from .filters import Filter, Sort

#: One resource object as the upstream returns it, normalised: ``id`` and ``parent`` (``parent`` or the
#: list shape's ``parent_id``) are hyphenated lower-case UUID strings or ``None``; other keys as sent.
Resource: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated list, read tolerantly (``null``, ``"None"`` or a missing key alike)."""

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
        max_connections: size of the process-wide pool.
    """

    base_url: str
    timeout: float = 10.0
    connect_timeout: float = 3.0
    max_connections: int = 100
    extra: Mapping[str, Any] = field(default_factory=dict)


class UpstreamClient:
    def __init__(self, settings: UpstreamSettings, *, transport: httpx.AsyncBaseTransport | None = None):
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    def session(self, api_key: str, *, observer: CallObserver | None = None) -> UpstreamSession:
        raise NotImplementedError

    async def healthcheck(self) -> bool:
        """True when ``GET /healthcheck`` answers ``{"status": "OK"}``; never raises."""
        raise NotImplementedError


class UpstreamSession:
    """The routes, as seen by one caller's key. Every method raises an ``UpstreamError`` subclass."""

    # event categories
    async def list_event_categories(self, *, title: str | None = None, page: int = 1) -> Page: ...
    async def get_event_category(self, category_id: str) -> Resource: ...
    async def create_event_category(self, body: Mapping[str, Any]) -> Resource: ...

    # events
    async def list_events(
        self,
        *,
        title: str | None = None,
        parent_id: str | None = None,
        integration_id: str | None = None,
        page: int = 1,
    ) -> Page: ...
    async def get_event(self, event_id: str) -> Resource: ...
    async def create_event(self, body: Mapping[str, Any]) -> Resource: ...
    async def update_event(self, event_id: str, body: Mapping[str, Any]) -> Resource: ...
    async def delete_event(self, event_id: str) -> None: ...

    # event properties
    async def list_event_properties(
        self,
        *,
        title: str | None = None,
        parent_id: str | None = None,
        integration_id: str | None = None,
        page: int = 1,
    ) -> Page: ...
    async def get_event_property(self, property_id: str) -> Resource: ...
    async def create_event_property(self, body: Mapping[str, Any]) -> Resource: ...
    async def update_event_property(self, property_id: str, body: Mapping[str, Any]) -> Resource: ...
    async def delete_event_property(self, property_id: str) -> None: ...

    # generic resources
    async def list_resources(
        self, *, filter: Filter | None = None, sort: Sort | None = None, page: int = 1, batch_size: int | None = None
    ) -> Page: ...
    def resources_url_length(self, *, filter: Filter | None, sort: Sort | None, page: int = 1) -> int:
        """Bytes of the URL ``list_resources`` would request, so loaders can chunk under 8 KB."""
        ...
    async def get_resource(self, resource_id: str) -> Resource: ...

    # integrations
    async def list_integrations(self, *, page: int = 1) -> Page: ...
    async def get_integration(self, integration_id: str) -> Resource: ...

    async def follow(self, next_url: str) -> Page:
        """GET an opaque ``links.next`` URL as given (never rebuilt)."""
        ...
