"""The ``/api/v1`` route handlers: the Secoda Events routes, List Resources, integrations, health check.

Each route is served with and without a trailing slash. Every list is paginated (see ``pagination.py``)
and ordered by ``created_at`` then ``id``, except List Resources, which takes a ``sort``. Lookups are always
scoped to the caller's workspace: another workspace's object is as absent as a missing one (404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from . import filters
from .errors import INVALID_QUERY_VALUE, NotFoundError, ValidationError
from .keys import STATE, STORE, WORKSPACE
from .model import CATEGORY, EVENT, EVENT_PROPERTY, canonical_uuid
from .pagination import paginate
from .store import Store
from .validation import parse_body, validate_create, validate_update

API_PREFIX = "/api/v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _store(request: web.Request) -> Store:
    return request.app[STORE]


def _path_id(request: web.Request) -> str:
    """The ``{id}`` of the path, hyphenated; an id that is not a UUID matches nothing (404)."""
    parsed = canonical_uuid(request.match_info["id"])
    if parsed is None:
        raise NotFoundError()
    return parsed


def _query_uuid(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    parsed = canonical_uuid(raw)
    if parsed is None:
        raise ValidationError.of(name, INVALID_QUERY_VALUE)
    return parsed


def _json(body: Any, status: int = 200) -> web.Response:
    """A JSON response encoded by orjson, which also embeds the store's pre-encoded objects as they are."""
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", charset="utf-8"
    )


# -- typed lists and objects (event/category, event/events, event/event_properties) --------------------


def _list_kind(kind: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        where = ["r.entity_type = ?"]
        params: list[Any] = [kind]
        title = request.query.get("title")
        if title is not None:
            where.append("r.title = ?")
            params.append(title)
        for name, column in (("parent_id", "r.parent_id"), ("integration_id", "r.integration_id")):
            value = _query_uuid(request, name)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        store, workspace = _store(request), request[WORKSPACE]
        sql = " AND ".join(where)
        count = store.count_resources(workspace, sql, params)
        body = paginate(
            request,
            count,
            request.app[STATE].config.page_size,
            lambda limit, offset: store.list_resources(
                workspace, sql, params, filters.STABLE_TAIL_SQL, limit, offset
            ),
        )
        return _json(body)

    return handler


def _get_kind(kind: str | None) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        found = _store(request).get_resource(request[WORKSPACE], _path_id(request), kind)
        if found is None:
            raise NotFoundError()
        return _json(found)

    return handler


def _create_kind(kind: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        body = parse_body(await request.read())
        # From here on, no await: validation and the insert see one consistent store.
        store, workspace = _store(request), request[WORKSPACE]
        new = validate_create(store, workspace, kind, body)
        return _json(store.create_resource(workspace, new), status=201)

    return handler


def _update_kind(kind: str | None) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        resource_id = _path_id(request)
        raw = await request.read()
        store, workspace = _store(request), request[WORKSPACE]
        actual = store.kind_of(workspace, resource_id)
        if actual is None or (kind is not None and actual != kind):
            raise NotFoundError()
        changes = validate_update(store, workspace, actual, parse_body(raw))
        updated = store.update_resource(workspace, resource_id, changes)
        if updated is None:
            raise NotFoundError()
        return _json(updated)

    return handler


def _delete_kind(kind: str | None) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if not _store(request).delete_resource(request[WORKSPACE], _path_id(request), kind):
            raise NotFoundError()
        return web.Response(status=204)

    return handler


# -- List Resources ---------------------------------------------------------------------------------------


async def list_catalog(request: web.Request) -> web.Response:
    errors: dict[str, list[str]] = {}
    where: list[str] = []
    params: list[Any] = []
    try:
        compiled = filters.compile_filter(request.query.get("filter"))
        if compiled is not None:
            where.append(compiled.sql)
            params.extend(compiled.params)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        order_by = filters.compile_sort(request.query.get("sort"))
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        team = _query_uuid(request, "teams")
        if team is not None:
            where.append("EXISTS (SELECT 1 FROM json_each(r.data, '$.teams') WHERE value = ?)")
            params.append(team)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    store, workspace, config = _store(request), request[WORKSPACE], request.app[STATE].config
    sql = " AND ".join(where) or "1"
    count = min(store.count_resources(workspace, sql, params), config.catalog_cap)
    body = paginate(
        request,
        count,
        config.page_size,
        lambda limit, offset: store.list_resources(workspace, sql, params, order_by, limit, offset),
    )
    return _json(body)


# -- integrations -------------------------------------------------------------------------------------------


async def list_integrations(request: web.Request) -> web.Response:
    store, workspace = _store(request), request[WORKSPACE]
    type_ = request.query.get("type") or None
    count = store.count_integrations(workspace, type_)
    body = paginate(
        request,
        count,
        request.app[STATE].config.page_size,
        lambda limit, offset: store.list_integrations(workspace, type_, limit, offset),
    )
    return _json(body)


async def get_integration(request: web.Request) -> web.Response:
    found = _store(request).get_integration(request[WORKSPACE], _path_id(request))
    if found is None:
        raise NotFoundError()
    return _json(found)


async def healthcheck(request: web.Request) -> web.Response:
    return _json({"status": "OK"})


#: Every API route as (method, path template below /api/v1, handler). The template, without a trailing
#: slash, is also the route's label in the request counters.
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/healthcheck", healthcheck),
    ("GET", "/event/category", _list_kind(CATEGORY)),
    ("POST", "/event/category", _create_kind(CATEGORY)),
    ("GET", "/event/category/{id}", _get_kind(CATEGORY)),
    ("GET", "/event/events", _list_kind(EVENT)),
    ("POST", "/event/events", _create_kind(EVENT)),
    ("GET", "/event/events/{id}", _get_kind(EVENT)),
    ("PATCH", "/event/events/{id}", _update_kind(EVENT)),
    ("DELETE", "/event/events/{id}", _delete_kind(EVENT)),
    ("GET", "/event/event_properties", _list_kind(EVENT_PROPERTY)),
    ("POST", "/event/event_properties", _create_kind(EVENT_PROPERTY)),
    # Older client code posts properties here; same behaviour.
    ("POST", "/event/property", _create_kind(EVENT_PROPERTY)),
    ("GET", "/event/event_properties/{id}", _get_kind(EVENT_PROPERTY)),
    ("PATCH", "/event/event_properties/{id}", _update_kind(EVENT_PROPERTY)),
    ("DELETE", "/event/event_properties/{id}", _delete_kind(EVENT_PROPERTY)),
    ("GET", "/resource/catalog", list_catalog),
    ("GET", "/resource/all/{id}", _get_kind(None)),
    ("PATCH", "/resource/all/{id}", _update_kind(None)),
    ("DELETE", "/resource/all/{id}", _delete_kind(None)),
    ("GET", "/integration/integrations", list_integrations),
    ("GET", "/integration/integrations/{id}", get_integration),
)

#: Routes that answer without an API key.
PUBLIC_ROUTES = frozenset({"GET /healthcheck"})


def add_api_routes(app: web.Application) -> None:
    for method, template, handler in ROUTES:
        for path in (template, f"{template}/"):
            app.router.add_route(method, f"{API_PREFIX}{path}", handler)


def route_label(request: web.Request) -> str:
    """``METHOD /template`` below ``/api/v1`` without a trailing slash, e.g. ``GET /event/events/{id}``.

    A request that matched no route is labelled by its own path.
    """
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    path = path.removeprefix(API_PREFIX)
    if len(path) > 1:
        path = path.rstrip("/")
    return f"{request.method} {path or '/'}"
