"""The upstream call plan: what a response cost upstream, on request, where the settings allow it."""

from __future__ import annotations

import httpx
import pytest

from events_gateway.emulator import EmulatorAdmin
from events_gateway.server import DEMO_QUERY
from events_gateway.server.call_plan import PLAN_HEADER, build_plan, rounds_of
from events_gateway.upstream import UpstreamCall

from .conftest import GatewayFactory


def call(started: float, ended: float, route: str = "GET /x", **extra: object) -> UpstreamCall:
    return UpstreamCall("GET", route, 200, started, ended, **extra)  # type: ignore[arg-type]


def test_calls_one_after_another_are_as_many_rounds() -> None:
    assert rounds_of([call(0, 1), call(1, 2), call(2.5, 3)]) == [1, 2, 3]


def test_concurrent_calls_are_one_round() -> None:
    assert rounds_of([call(0, 3), call(0.1, 2), call(0.2, 1)]) == [1, 1, 1]


def test_rounds_follow_the_longest_chain_not_the_order_given() -> None:
    # a(0-1), b(1.5-2) and d(2.5-3) form a chain; c(0-2.6) overlaps it; e(2.7-3) follows a, b and c.
    calls = [call(2.5, 3), call(0, 2.6), call(1.5, 2), call(0, 1), call(2.7, 3)]
    assert rounds_of(calls) == [3, 1, 2, 1, 3]
    assert build_plan(calls)["rounds"] == 3


def test_the_plan_lists_calls_in_start_order_with_totals() -> None:
    plan = build_plan(
        [
            call(10.002, 10.003, "GET /event/events", batch_size=4),
            UpstreamCall("GET", "GET /event/category", None, 10.0, 10.001),
        ]
    )
    assert plan["calls"] == [
        {"route": "GET /event/category", "status": None, "ms": 1.0, "startMs": 0.0, "round": 1},
        {"route": "GET /event/events", "status": 200, "ms": 1.0, "startMs": 2.0, "round": 2, "batchSize": 4},
    ]
    assert (plan["totalCalls"], plan["rounds"], plan["failedCalls"]) == (2, 2, 1)
    assert plan["totalMs"] == 2.0
    assert plan["wallMs"] == 3.0


def test_no_calls_is_an_empty_plan() -> None:
    assert build_plan([]) == {
        "calls": [],
        "totalCalls": 0,
        "rounds": 0,
        "totalMs": 0.0,
        "wallMs": 0.0,
        "failedCalls": 0,
        "cacheHits": 0,
    }


async def test_the_plan_matches_what_the_upstream_served(
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
    emulator_admin: EmulatorAdmin,
) -> None:
    # Level by level (reading ahead takes fewer rounds: tests/graph/test_planner.py), so each level waits.
    gateway = await gateway_factory(upstream_plan="on", plan_ahead=False)
    await emulator_admin.reset()
    response = await http.post(
        f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers={**api_headers, PLAN_HEADER: "1"}
    )
    body = response.json()
    assert "errors" not in body
    plan = body["extensions"]["upstream"]
    served = await emulator_admin.stats()
    assert plan["totalCalls"] == served["total"] == len(plan["calls"])
    by_route: dict[str, int] = {}
    for entry in plan["calls"]:
        by_route[entry["route"]] = by_route.get(entry["route"], 0) + 1
        assert entry["status"] == 200
    assert sum(by_route.values()) == sum(served["by_route"].values())
    # categories, then their events, then those events' properties: three waits at the least
    assert 3 <= plan["rounds"] <= plan["totalCalls"]
    assert any("batchSize" in entry for entry in plan["calls"])
    assert response.headers["cache-control"] == "no-store"


async def test_without_the_header_there_is_no_plan(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    gateway = await gateway_factory(upstream_plan="on")
    response = await http.post(f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers=api_headers)
    assert "extensions" not in response.json()


@pytest.mark.parametrize("mode", ["off", "auto"])
async def test_settings_that_do_not_allow_it_ignore_the_header(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, api_headers: dict[str, str], mode: str
) -> None:
    gateway = await gateway_factory(upstream_plan=mode)
    response = await http.post(
        f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers={**api_headers, PLAN_HEADER: "1"}
    )
    assert "extensions" not in response.json()


async def test_a_request_that_costs_nothing_upstream_has_an_empty_plan(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    gateway = await gateway_factory(upstream_plan="on")
    response = await http.post(
        f"{gateway}/graphql", json={"query": "{ __typename }"}, headers={**api_headers, PLAN_HEADER: "true"}
    )
    assert response.json()["extensions"]["upstream"]["totalCalls"] == 0
