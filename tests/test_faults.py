"""The gateway under an unreliable upstream: bounded, typed, partial, and never a write applied twice.

A real gateway (``create_app`` on loopback) runs over the emulator while the emulator injects 500s, 503s,
429s with ``Retry-After``, stalled answers and malformed bodies at various rates. Every answer must:

- arrive, as HTTP 200, well before the stalls would end: the request deadline bounds it;
- carry only typed upstream errors (``UPSTREAM_UNAVAILABLE``, ``UPSTREAM_TIMEOUT``, ``RATE_LIMITED``),
  never ``INTERNAL_SERVER_ERROR``;
- agree with the fault-free answer wherever it has data: a field is either the same as without faults,
  or ``null`` with an error at or below it (a list is never silently short).

When the faults stop, the breaker closes once its cool-down has passed and answers are whole again.
Writes are sent once: each create either reported success and exists exactly once upstream, or reported
an error and does not exist (the emulator decides a fault before it writes anything).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.server import CLIENT_KEY, DEMO_QUERY, create_app
from events_gateway.settings import Settings
from events_gateway.upstream.resilience import CircuitState

#: The codes an upstream fault may surface as; anything else is a bug.
UPSTREAM_CODES = frozenset({"UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "RATE_LIMITED"})
REQUEST_DEADLINE = 2.0
BREAKER_COOLDOWN = 0.3
#: Far beyond the deadline: a request still waiting on a stall this long has ignored its deadline.
LONG_STALL = 30.0
#: The client gives up here. Generous beside the 2 s deadline (the machine may be busy), and far
#: short of a long stall, so only the gateway's own deadline can bring those answers back in time.
CLIENT_TIMEOUT = 10.0
CONCURRENCY = 6
ROUNDS = 3

LOOKUPS = """query Lookups($category: ID!, $event: ID!) {
  eventCategory(id: $category) { id title events(first: 5) { totalCount nodes { id title } } }
  event(id: $event) { id title category { id title } properties { totalCount nodes { id title type } } }
}"""
CREATE_CATEGORY = """mutation ($title: String!, $integration: ID!) {
  createEventCategory(input: {title: $title, integrationId: $integration}) { id title }
}"""
CREATE_EVENT = """mutation ($title: String!, $category: ID!, $integration: ID) {
  createEvent(input: {title: $title, categoryId: $category, integrationId: $integration}) { id title }
}"""


@dataclass(frozen=True)
class Faults:
    faults: tuple[str, ...]
    rate: float
    stall_seconds: float = 0.3
    #: Only failures in a row open the circuit; a 429 shows the upstream is alive.
    opens_breaker: bool = False

    def config(self) -> dict[str, Any]:
        return {
            "faults": list(self.faults),
            "fault_rate": self.rate,
            "stall_seconds": self.stall_seconds,
            "fault_seed": 11,
        }


EVERY_KIND = ("500", "503", "429", "stall", "malformed")
READ_CASES = {
    "500 at 30%": Faults(("500",), 0.3),
    "503 at 50%": Faults(("503",), 0.5),
    "429 at 50%": Faults(("429",), 0.5),
    "short stalls at 30%": Faults(("stall",), 0.3),
    "stalls past the deadline at 20%": Faults(("stall",), 0.2, LONG_STALL),
    "malformed at 30%": Faults(("malformed",), 0.3),
    "every kind at 50%": Faults(EVERY_KIND, 0.5, LONG_STALL),
    "every kind always": Faults(EVERY_KIND, 1.0),
    "5xx always": Faults(("500", "503"), 1.0, opens_breaker=True),
}
WRITE_CASES = {
    "every kind at 50%": Faults(EVERY_KIND, 0.5),
    "stalls past the deadline at 30%": Faults(("stall", "503"), 0.3, LONG_STALL),
    "every kind always": Faults(EVERY_KIND, 1.0),
}


@dataclass
class Gateway:
    """A gateway on loopback, its upstream breaker's transitions, and a client to call it with."""

    url: str
    http: httpx.AsyncClient
    transitions: list[tuple[CircuitState, CircuitState]] = field(default_factory=list)
    states: Callable[[], dict[str, CircuitState]] = dict

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
        )
        assert response.status_code == 200, response.text  # never a 5xx, whatever the upstream did
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def gateway(emulator: RunningEmulator) -> AsyncIterator[Gateway]:
    settings = Settings(
        upstream_url=emulator.api_url,
        request_deadline=REQUEST_DEADLINE,
        breaker_cooldown=BREAKER_COOLDOWN,
        upstream_timeout=LONG_STALL * 2,  # only the request deadline may cut a stall short
        log_level="WARNING",
        cache_ttl=0,  # every read must meet the faults; serving through them is tested in tests/server
    )
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    breaker = app[CLIENT_KEY].breaker
    assert breaker is not None
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http:
        gateway = Gateway(str(server.make_url("")).rstrip("/"), http, states=breaker.states)
        breaker.add_listener(lambda origin, old, new: gateway.transitions.append((old, new)))
        yield gateway
    await server.close()


def assert_agrees(
    got: Any, want: Any, errors: list[dict[str, Any]], path: tuple[str | int, ...] = ()
) -> None:
    """``got`` equals the fault-free ``want``, except where it is ``null`` with an error at or below."""
    if got is None and want is not None:
        assert any(tuple(error.get("path") or ())[: len(path)] == path for error in errors), path
        return
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        assert got.keys() == want.keys(), path
        for key, value in want.items():
            assert_agrees(got[key], value, errors, (*path, key))
    elif isinstance(want, list):
        assert isinstance(got, list), path
        assert len(got) == len(want), path  # a failed page fails its list; it never shortens it
        for index, (item, wanted) in enumerate(zip(got, want, strict=True)):
            assert_agrees(item, wanted, errors, (*path, index))
    else:
        assert got == want, path


def assert_typed(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = body.get("errors", [])
    for error in errors:
        assert error.get("extensions", {}).get("code") in UPSTREAM_CODES, error
        assert "Traceback" not in error["message"]
    if body.get("data") is None:
        assert errors, body
    return errors


async def whole_again(gateway: Gateway, query: str, variables: dict[str, Any], want: Any) -> None:
    """Wait out the breaker's cool-down until the answer is whole (a bounded number of times)."""
    for _ in range(40):
        body = await gateway.graphql(query, variables)
        if "errors" not in body:
            assert body["data"] == want
            return
        await asyncio.sleep(BREAKER_COOLDOWN)
    pytest.fail("the answers never became whole after the faults stopped")


async def in_waves(jobs: list[Callable[[], Awaitable[dict[str, Any]]]]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for start in range(0, len(jobs), CONCURRENCY):
        answers += await asyncio.gather(*(job() for job in jobs[start : start + CONCURRENCY]))
    return answers


@pytest.mark.parametrize("faults", READ_CASES.values(), ids=READ_CASES.keys())
async def test_reads_under_faults_are_bounded_typed_and_partial(
    gateway: Gateway, emulator_admin: EmulatorAdmin, faults: Faults
) -> None:
    clean = await gateway.graphql(DEMO_QUERY)
    assert "errors" not in clean
    category = clean["data"]["eventCategories"]["nodes"][0]
    ids = {"category": category["id"], "event": category["events"]["nodes"][0]["id"]}
    clean_lookups = await gateway.graphql(LOOKUPS, ids)
    assert "errors" not in clean_lookups
    await emulator_admin.reset()
    await gateway.graphql(DEMO_QUERY)
    await gateway.graphql(LOOKUPS, ids)
    calls_when_clean = (await emulator_admin.stats())["total"]

    await emulator_admin.configure(**faults.config())
    await emulator_admin.reset()
    jobs: list[Callable[[], Awaitable[dict[str, Any]]]] = []
    for _ in range(ROUNDS * CONCURRENCY // 2):
        jobs += [lambda: gateway.graphql(DEMO_QUERY), lambda: gateway.graphql(LOOKUPS, ids)]
    answers = await in_waves(jobs)

    saw_faults = False
    for index, body in enumerate(answers):
        errors = assert_typed(body)
        saw_faults = saw_faults or bool(errors)
        want = clean if index % 2 == 0 else clean_lookups
        assert_agrees(body.get("data"), want["data"], errors)
    calls = (await emulator_admin.stats())["total"]
    assert saw_faults or calls > calls_when_clean * len(answers) // 2  # an error, or retries rode it out

    await emulator_admin.configure(fault_rate=0.0)
    await whole_again(gateway, DEMO_QUERY, {}, clean["data"])
    assert set(gateway.states().values()) == {CircuitState.CLOSED}
    for _ in range(2):
        assert await gateway.graphql(DEMO_QUERY) == clean
        assert await gateway.graphql(LOOKUPS, ids) == clean_lookups
    if faults.opens_breaker:
        assert (CircuitState.CLOSED, CircuitState.OPEN) in gateway.transitions
        assert gateway.transitions[-1] == (CircuitState.HALF_OPEN, CircuitState.CLOSED)


@pytest.mark.parametrize("faults", WRITE_CASES.values(), ids=WRITE_CASES.keys())
async def test_no_write_is_applied_twice_or_reported_wrongly(
    gateway: Gateway, emulator: RunningEmulator, emulator_admin: EmulatorAdmin, faults: Faults
) -> None:
    async with httpx.AsyncClient(
        base_url=emulator.api_url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=CLIENT_TIMEOUT
    ) as upstream:
        integration = (await upstream.get("/integration/integrations/")).json()["results"][0]["id"]
        category = (await upstream.get("/event/category/")).json()["results"][0]["id"]
        run = uuid.uuid4().hex[:8]
        categories = [f"Faulty {run} {n}" for n in range(12)]
        events = [f"faulty_{run}_{n}" for n in range(12)]
        jobs: list[Callable[[], Awaitable[dict[str, Any]]]] = [
            partial(gateway.graphql, CREATE_CATEGORY, {"title": title, "integration": integration})
            for title in categories
        ]
        jobs += [
            partial(  # half leave the integration to the category's
                gateway.graphql,
                CREATE_EVENT,
                {"title": title, "category": category, "integration": integration if n % 2 else None},
            )
            for n, title in enumerate(events)
        ]

        await emulator_admin.configure(**faults.config())
        await emulator_admin.reset()
        answers = await in_waves(jobs)
        await emulator_admin.configure(fault_rate=0.0)

        reported: dict[str, str | None] = {}
        for title, body in zip([*categories, *events], answers, strict=True):
            errors = assert_typed(body)
            data = body.get("data")
            created = next(iter(data.values())) if data else None
            assert (created is None) == bool(errors), body
            reported[title] = created["id"] if created else None
        if faults.rate == 1.0:
            assert set(reported.values()) == {None}
        else:  # both outcomes were met, so both are checked below
            assert None in reported.values()
            assert any(reported.values())

        for title in categories:
            found = (await upstream.get("/event/category/", params={"title": title})).json()["results"]
            assert [item["id"] for item in found] == ([reported[title]] if reported[title] else []), title
        for title in events:
            found = (await upstream.get("/event/events/", params={"title": title})).json()["results"]
            assert [item["id"] for item in found] == ([reported[title]] if reported[title] else []), title
