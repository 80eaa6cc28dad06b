"""Callers never see each other: workspaces stay apart under concurrent load, keys stay out of every log
and answer, and the two switches that hide the API's shape from the public do what they say.

One emulator serves two seeded workspaces, each behind its own key; one gateway serves both keys at
once. The storm interleaves 2,000 requests of both keys (50 in flight), by POST and GET, listing trees
and looking up ids — their own, and the other workspace's — and checks every id in every answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer
from httpx_aiohttp import AiohttpTransport

from events_gateway.emulator import EmulatorAdmin, RunningEmulator
from events_gateway.server import create_app
from events_gateway.settings import Settings

ALPHA = "a1a1a1a1-aaaa-4aaa-8aaa-0000000000a1"
BETA = "b2b2b2b2-bbbb-4bbb-8bbb-0000000000b2"
#: Not a key of either workspace; as distinctive as the real ones, so any leak of it is findable too.
WRONG = "c3c3c3c3-cccc-4ccc-8ccc-0000000000c3"
WORKSPACES = {ALPHA: "alpha", BETA: "beta"}

REQUESTS = 2_000
IN_FLIGHT = 50

TREE = """{ eventCategories(first: 3) { nodes { id events(first: 3) { nodes { id
  properties(first: 2) { nodes { id } } } } } } }"""
EVENTS = "{ events(first: 5) { nodes { id category { id } } } }"
LOOKUP = """query ($id: ID!) { event(id: $id) { id category { id } } eventCategory(id: $id) { id }
  eventProperty(id: $id) { id event { id } } }"""

EmulatorFactory = Callable[..., Awaitable[RunningEmulator]]


def ids_in(value: Any) -> Iterator[str]:
    """Every ``id`` anywhere in a GraphQL ``data`` tree."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                yield item
            else:
                yield from ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from ids_in(item)


@asynccontextmanager
async def gateway_over(emulator: RunningEmulator, **changes: Any) -> AsyncIterator[str]:
    """The gateway's own app factory, served on a free loopback port; yields its ``/graphql`` URL."""
    app = create_app(Settings(upstream_url=emulator.api_url).with_(**changes))
    async with TestServer(app, host="127.0.0.1", port=0) as server:
        yield str(server.make_url("/graphql"))


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def workspace_ids(http: httpx.AsyncClient, emulator: RunningEmulator, key: str) -> set[str]:
    """Ids of a workspace's categories, events and properties, read from the upstream itself, every page."""
    ids: set[str] = set()
    for path in ("/event/category/", "/event/events/", "/event/event_properties/"):
        url: str | None = f"{emulator.api_url}{path}"
        while url:
            page = (await http.get(url, headers=auth(key))).json()
            ids |= {item["id"] for item in page["results"]}
            url = page["links"]["next"]
    return ids


@pytest.fixture
async def two_workspaces(emulator_factory: EmulatorFactory) -> RunningEmulator:
    return await emulator_factory(api_keys=WORKSPACES)


async def test_thousands_of_interleaved_requests_never_cross_workspaces(
    two_workspaces: RunningEmulator,
) -> None:
    # aiohttp under httpx: httpx's own pool spends more CPU queueing 50 requests than the gateway does serving
    async with (
        httpx.AsyncClient(transport=AiohttpTransport(), timeout=60) as http,
        gateway_over(two_workspaces) as graphql,
    ):
        own = {key: await workspace_ids(http, two_workspaces, key) for key in WORKSPACES}
        assert own[ALPHA]
        assert own[BETA]
        assert not own[ALPHA] & own[BETA], "the seeds must differ for this test to mean anything"
        other = {ALPHA: own[BETA], BETA: own[ALPHA]}
        chooser = random.Random(20_240_601)
        lookups = {key: sorted(ids) for key, ids in own.items()}
        limit = asyncio.Semaphore(IN_FLIGHT)
        seen: dict[str, set[str]] = {ALPHA: set(), BETA: set()}
        answered = {"own lookup": 0, "foreign lookup": 0}

        async def one(index: int) -> None:
            key = chooser.choice((ALPHA, BETA))
            kind = index % 4
            variables: dict[str, str] | None = None
            if kind == 2:  # a lookup of one of its own ids
                variables = {"id": chooser.choice(lookups[key])}
            elif kind == 3:  # a lookup of the other workspace's id: must find nothing
                variables = {"id": chooser.choice(lookups[ALPHA if key == BETA else BETA])}
            query = (TREE, EVENTS, LOOKUP, LOOKUP)[kind]
            async with limit:
                if index % 2:
                    response = await http.post(
                        graphql, json={"query": query, "variables": variables}, headers=auth(key)
                    )
                else:
                    params = {"query": query, **({"variables": json.dumps(variables)} if variables else {})}
                    response = await http.get(graphql, params=params, headers=auth(key))
            assert response.status_code == 200, response.text
            body = response.json()
            ids = set(ids_in(body["data"]))
            assert not ids & other[key], f"request {index} with key {WORKSPACES[key]} saw the other's ids"
            assert ids <= own[key], index
            seen[key] |= ids
            if kind == 2:
                assert variables is not None
                assert variables["id"] in ids, body
                answered["own lookup"] += 1
            elif kind == 3:
                assert ids == set(), body
                assert {error["extensions"]["code"] for error in body.get("errors", ())} <= {"NOT_FOUND"}
                answered["foreign lookup"] += 1

        await asyncio.gather(*(one(index) for index in range(REQUESTS)))

    assert len(seen[ALPHA]) > 20
    assert len(seen[BETA]) > 20
    assert answered == {"own lookup": REQUESTS // 4, "foreign lookup": REQUESTS // 4}


# --- keys stay out of logs and answers ----------------------------------------------------------------


def log_text(records: list[logging.LogRecord]) -> str:
    """Everything a log handler could write: messages, arguments, tracebacks, stack and extra fields."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    parts = []
    for record in records:
        parts.append(formatter.format(record))  # includes the formatted traceback, if any
        parts.append(repr(record.args))
        parts.append(repr(vars(record)))
    return "\n".join(parts)


async def test_api_keys_never_reach_a_log_or_an_answer(
    two_workspaces: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: the gateway's, httpx's, aiohttp's
    answers: list[str] = []

    async def ask(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await http.request(method, url, **kwargs)
        answers.append(response.text)
        answers.append(repr(response.headers.multi_items()))
        return response

    async with (
        EmulatorAdmin(two_workspaces.url) as admin,
        httpx.AsyncClient(timeout=30) as http,
        gateway_over(two_workspaces, upstream_timeout=0.5) as graphql,
    ):
        for key in (ALPHA, BETA, WRONG):
            headers = auth(key)
            await ask(http, "POST", graphql, json={"query": TREE}, headers=headers)
            await ask(http, "GET", graphql, params={"query": EVENTS}, headers=headers)
            await ask(http, "POST", graphql, json={"query": "{ nope }"}, headers=headers)
            await ask(
                http,
                "POST",
                graphql,
                content=b"{not json",
                headers={**headers, "Content-Type": "application/json"},
            )
            await ask(
                http,
                "GET",
                graphql,
                params={"query": 'mutation { deleteEvent(id: "x") { id } }'},
                headers=headers,
            )
            missing = {"id": "00000000-0000-4000-8000-000000000000"}
            await ask(http, "POST", graphql, json={"query": LOOKUP, "variables": missing}, headers=headers)
        for malformed in (f"Token {ALPHA}", f"Bearer {ALPHA} {BETA}", ALPHA, f"Basic {BETA}"):
            await ask(http, "POST", graphql, json={"query": TREE}, headers={"Authorization": malformed})
        # first, while the circuit is closed: an upstream slower than the gateway's 0.5 s timeout
        # (``no-cache``: these answers were cached above, and the failures must be met, not skipped)
        await admin.configure(latency_ms=2_000)  # past the gateway's 0.5 s upstream timeout
        fresh = {**auth(ALPHA), "Cache-Control": "no-cache"}
        timed_out = await ask(http, "POST", graphql, json={"query": EVENTS}, headers=fresh)
        assert "UPSTREAM_TIMEOUT" in timed_out.text
        await admin.configure(latency_ms=0)
        for fault in ("500", "503", "429", "malformed"):
            await admin.configure(fault_rate=1.0, faults=[fault])
            for key in (ALPHA, WRONG):
                headers = {**auth(key), "Cache-Control": "no-cache"}
                response = await ask(http, "POST", graphql, json={"query": TREE}, headers=headers)
                assert response.json()["errors"], fault

    logged = log_text(caplog.records)
    assert any(record.name.startswith("events_gateway") for record in caplog.records), "nothing was logged"
    assert "UNAUTHENTICATED" in "".join(answers)
    assert "UPSTREAM_UNAVAILABLE" in "".join(answers)
    for key in (ALPHA, BETA, WRONG):
        assert key not in logged, f"a key reached the logs: {WORKSPACES.get(key, 'wrong key')}"
        for answer in answers:
            assert key not in answer, answer


# --- what a public gateway can hide: introspection and GraphiQL, each on its own switch ----------------

SCHEMA_QUERIES = ("{ __schema { queryType { name } } }", '{ __type(name: "Event") { name } }')
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_introspection_off_refuses_every_schema_question_on_both_methods(
    two_workspaces: RunningEmulator, method: str
) -> None:
    """tests/server/test_graphiql_page.py covers ``__schema`` over POST; this adds ``__type``, GET, and
    that GraphiQL stays on while introspection is off."""
    async with (
        httpx.AsyncClient(timeout=30) as http,
        gateway_over(two_workspaces, introspection=False) as graphql,
    ):
        # the spec's own media type, whose status codes tell a refused request apart (docs/http.md)
        headers = {**auth(ALPHA), "Accept": "application/graphql-response+json"}
        for query in SCHEMA_QUERIES:
            if method == "GET":
                response = await http.get(graphql, params={"query": query}, headers=headers)
            else:
                response = await http.post(graphql, json={"query": query}, headers=headers)
            assert response.status_code == 400, query
            body = response.json()
            assert "data" not in body
            assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
        answered = await http.post(graphql, json={"query": "{ __typename }"}, headers=auth(ALPHA))
        assert answered.json() == {"data": {"__typename": "Query"}}
        page = await http.get(graphql, headers=BROWSER)
        assert page.status_code == 200
        assert "<html" in page.text.lower()


async def test_graphiql_off_leaves_introspection_on(two_workspaces: RunningEmulator) -> None:
    async with httpx.AsyncClient(timeout=30) as http, gateway_over(two_workspaces, graphiql=False) as graphql:
        page = await http.get(graphql, headers=BROWSER)
        assert page.status_code == 404
        assert "<html" not in page.text.lower()
        for query in SCHEMA_QUERIES:
            response = await http.post(graphql, json={"query": query}, headers=auth(ALPHA))
            assert response.status_code == 200
            assert "errors" not in response.json()
