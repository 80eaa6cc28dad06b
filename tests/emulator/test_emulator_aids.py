"""Test aids: request counters and rounds, added latency, injected faults, run-time config, reset."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from events_gateway.emulator import EmulatorAdmin, RunningEmulator, run_emulator
from events_gateway.emulator.errors import SERVER_ERROR, SERVICE_UNAVAILABLE, STALLED
from events_gateway.emulator.settings import EmulatorSettings
from events_gateway.emulator.state import CallRecord, count_rounds

from ..conftest import EmulatorFactory
from .conftest import ClientFor


async def test_aids_are_off_unless_asked(emulator_factory: EmulatorFactory) -> None:
    emulator = await emulator_factory(admin=False)
    async with httpx.AsyncClient(base_url=emulator.url) as client:
        assert (await client.get("/_emulator/stats")).status_code == 404
        assert (await client.post("/_emulator/reset")).status_code == 404


async def test_stats_count_routes_by_template(
    emulator: RunningEmulator, emulator_admin: EmulatorAdmin, api: httpx.AsyncClient
) -> None:
    event = (await api.get("/event/events/")).json()["results"][0]
    await api.get(f"/event/events/{event['id']}/")
    await api.get(f"/event/events/{event['id']}")
    await api.get("/resource/catalog")
    await api.patch(f"/resource/all/{event['id']}", json={"pii": "no"})
    stats = await emulator_admin.stats()
    assert stats["total"] == 5
    assert stats["by_route"] == {
        "GET /event/events": 1,
        "GET /event/events/{id}": 2,
        "GET /resource/catalog": 1,
        "PATCH /resource/all/{id}": 1,
    }
    assert [c["status"] for c in stats["calls"]] == [200, 200, 200, 200, 400]
    assert all(c["start"] <= c["end"] for c in stats["calls"])
    assert stats["rounds"] == 5
    await emulator_admin.reset()
    assert await emulator_admin.stats() == {"total": 0, "by_route": {}, "rounds": 0, "calls": []}


async def test_rounds_count_dependent_round_trips(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(latency_ms=50)
    async with client_for(emulator) as api, EmulatorAdmin(emulator.url) as admin:
        await asyncio.gather(*(api.get("/event/category") for _ in range(5)))
        await asyncio.gather(*(api.get("/event/events") for _ in range(3)))
        stats = await admin.stats()
    assert stats["total"] == 8
    assert stats["rounds"] == 2


async def test_latency_shows_in_call_times(emulator_factory: EmulatorFactory, client_for: ClientFor) -> None:
    emulator = await emulator_factory(latency_ms=60)
    async with client_for(emulator) as api, EmulatorAdmin(emulator.url) as admin:
        await api.get("/event/category")
        calls = (await admin.stats())["calls"]
        assert calls[0]["end"] - calls[0]["start"] >= 0.05
        config = await admin.configure(latency_ms=0)
        assert config["latency_ms"] == 0


def test_count_rounds_takes_the_longest_chain() -> None:
    def call(start: float, end: float) -> CallRecord:
        return CallRecord("GET /x", 200, start, end)

    assert count_rounds([]) == 0
    assert count_rounds([call(0, 1), call(0.5, 1.5)]) == 1
    assert count_rounds([call(0, 1), call(1.1, 2), call(2.1, 3), call(0, 2.5)]) == 3
    assert count_rounds([call(0, 1), call(1, 2)]) == 1  # touching is not "after"


@pytest.mark.parametrize(
    ("kind", "status", "detail"),
    [("500", 500, SERVER_ERROR), ("503", 503, SERVICE_UNAVAILABLE), ("429", 429, None)],
)
async def test_status_faults(
    emulator_factory: EmulatorFactory, client_for: ClientFor, kind: str, status: int, detail: str | None
) -> None:
    emulator = await emulator_factory(fault_rate=1.0, faults=(kind,))
    async with client_for(emulator) as api:
        response = await api.get("/event/category")
    assert response.status_code == status
    if detail is not None:
        assert response.json() == {"detail": detail}
    else:
        assert int(response.headers["Retry-After"]) >= 1
        assert "detail" in response.json()


async def test_malformed_fault_is_a_200_that_is_not_json(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(fault_rate=1.0, faults=("malformed",))
    async with client_for(emulator) as api:
        response = await api.get("/resource/catalog")
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"."):
        response.json()


async def test_stall_fault_waits_then_answers_504(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(fault_rate=1.0, faults=("stall",), stall_seconds=0.05)
    async with client_for(emulator) as api:
        response = await api.get("/event/category")
    assert response.status_code == 504
    assert response.json() == {"detail": STALLED}


async def test_a_stall_ends_when_the_emulator_stops(client_for: ClientFor) -> None:
    settings = EmulatorSettings(fault_rate=1.0, faults=("stall",), stall_seconds=300)
    async with asyncio.timeout(20):
        async with run_emulator(settings, port=0) as running:
            api = client_for(running)
            pending = asyncio.create_task(api.get("/event/category"))
            await asyncio.sleep(0.2)
            assert not pending.done()
        response = await pending
        await api.aclose()
    assert response.status_code == 504


async def test_a_faulted_write_is_never_applied(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(fault_rate=1.0, faults=("500", "503", "429", "malformed"))
    async with client_for(emulator) as api, EmulatorAdmin(emulator.url) as admin:
        await admin.configure(fault_rate=0)
        integration = (await api.get("/integration/integrations")).json()["results"][0]["id"]
        before = (await api.get("/event/category")).json()["count"]
        await admin.configure(fault_rate=1)
        for _ in range(8):
            response = await api.post("/event/category", json={"title": "Never", "integration": integration})
            assert response.status_code != 201
        await admin.configure(fault_rate=0)
        assert (await api.get("/event/category")).json()["count"] == before


async def test_faults_repeat_for_a_seed(emulator_factory: EmulatorFactory, client_for: ClientFor) -> None:
    async def statuses(seed: int) -> list[int]:
        emulator = await emulator_factory(fault_rate=0.5, faults=("500", "503"), fault_seed=seed)
        async with client_for(emulator) as api:
            return [(await api.get("/healthcheck")).status_code for _ in range(20)]

    first, again, other = await statuses(7), await statuses(7), await statuses(8)
    assert first == again
    assert set(first) == {200, 500, 503}
    assert first != other


async def test_config_changes_at_run_time_and_refuses_bad_values(
    emulator_admin: EmulatorAdmin, api: httpx.AsyncClient
) -> None:
    config = await emulator_admin.configure(page_size=2, faults=["503"], fault_seed=3)
    assert config["page_size"] == 2
    assert config["faults"] == ["503"]
    assert config["fault_seed"] == 3
    assert len((await api.get("/event/category")).json()["results"]) == 2
    assert await emulator_admin.config() == config
    for bad in (
        {"page_size": 0},
        {"fault_rate": 2},
        {"faults": ["boom"]},
        {"db_path": "/tmp/x"},
        {"latency_ms": "x"},
    ):
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await emulator_admin.configure(**bad)
        assert caught.value.response.status_code == 400
        assert list(caught.value.response.json()) == ["non_field_errors"]
    assert await emulator_admin.config() == config


async def test_a_fault_rule_fails_exactly_the_requests_it_names(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(page_size=10)
    rule = {"route": "GET /resource/catalog", "params": {"page": "3"}, "fault": "503"}
    async with client_for(emulator) as api, EmulatorAdmin(emulator.url) as admin:
        config = await admin.configure(fault_rules=[rule])
        assert config["fault_rules"] == [rule]
        assert await admin.config() == config
        catalog = [
            (await api.get("/resource/catalog", params={"page": page})).status_code for page in (1, 2, 3, 4)
        ]
        again = (await api.get("/resource/catalog", params={"page": 3})).json()
        other_route = (await api.get("/event/event_properties", params={"page": 3})).status_code
        by_default = await admin.configure(fault_rules=[{"route": "GET /event/category"}])
        plain = (await api.get("/event/category")).status_code
        assert by_default["fault_rules"] == [{"route": "GET /event/category", "params": {}, "fault": "500"}]
        await admin.configure(fault_rules=[])
        cleared = (await api.get("/event/category")).status_code
        calls = (await admin.stats())["calls"]
    assert catalog == [200, 200, 503, 200]
    assert again == {"detail": SERVICE_UNAVAILABLE}  # every time: a permanent failure of that one page
    assert (other_route, plain, cleared) == (200, 500, 200)
    assert [call["status"] for call in calls] == [200, 200, 503, 200, 503, 200, 500, 200]


@pytest.mark.parametrize(
    "rules",
    [
        "GET /resource/catalog",
        [{"params": {"page": "3"}}],
        [{"route": "GET /resource/catalog", "params": {"page": 3}}],
        [{"route": "GET /resource/catalog", "fault": "boom"}],
        [{"route": "GET /resource/catalog", "status": 500}],
    ],
)
async def test_a_bad_fault_rule_is_refused(emulator_admin: EmulatorAdmin, rules: object) -> None:
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await emulator_admin.configure(fault_rules=rules)
    assert caught.value.response.status_code == 400
    assert (await emulator_admin.config())["fault_rules"] == []


async def test_fail_next_fails_exactly_the_queued_requests_in_order(
    emulator_admin: EmulatorAdmin, api: httpx.AsyncClient
) -> None:
    config = await emulator_admin.configure(fail_next=["500", "malformed", "503"])
    assert config["fail_next"] == ["500", "malformed", "503"]
    first, second, third, fourth = [await api.get("/event/category") for _ in range(4)]
    assert first.status_code == 500
    assert second.status_code == 200
    with pytest.raises(ValueError, match=r"."):
        second.json()
    assert third.status_code == 503
    assert fourth.status_code == 200
    assert fourth.json()["results"]
    assert (await emulator_admin.config())["fail_next"] == []


async def test_fail_next_refuses_what_is_not_a_list_of_kinds(emulator_admin: EmulatorAdmin) -> None:
    for bad in ("500", ["boom"], [500]):
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await emulator_admin.configure(fail_next=bad)
        assert caught.value.response.status_code == 400
    assert (await emulator_admin.config())["fail_next"] == []
