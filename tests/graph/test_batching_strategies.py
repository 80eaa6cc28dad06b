"""The two batching strategies against the real emulator over loopback: the same answers, each through its
own routes, and every failure kept to the keys it concerns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.graph.batching import Batching, CatalogBatching, PerParentBatching, batching_for
from events_gateway.graph.lists import UNFILTERED, ListQuery, ListSpec
from events_gateway.graph.planner import ChildBatch
from events_gateway.settings import Settings
from events_gateway.upstream import (
    CATEGORY,
    EVENT,
    EVENT_PROPERTY,
    BadRequest,
    UpstreamClient,
    UpstreamSettings,
)

Rest = Any  # the ``rest`` fixture's type lives in conftest.py; tests get it as a fixture

UNKNOWN = "00000000-0000-4000-8000-000000000000"
Mode = Literal["catalog", "per-parent"]
MODES: list[Mode] = ["catalog", "per-parent"]


@dataclass
class Upstream:
    emulator: RunningEmulator
    client: UpstreamClient
    admin: EmulatorAdmin

    def batching(self, mode: Mode, **settings: Any) -> Batching:
        gateway = Settings(upstream_url=self.emulator.api_url, batching=mode, **settings)
        return batching_for(gateway, self.client.session(DEMO_API_KEY))

    async def routes(self) -> dict[str, int]:
        by_route: dict[str, int] = (await self.admin.stats())["by_route"]
        return by_route


@pytest.fixture
async def upstream_for(emulator_factory: Any) -> AsyncIterator[Any]:
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Upstream:
            emulator = await emulator_factory(**{"seed": "scale", "scale": (3, 4, 5), **overrides})
            client = UpstreamClient(UpstreamSettings(emulator.api_url))
            stack.push_async_callback(client.aclose)
            admin = await stack.enter_async_context(EmulatorAdmin(emulator.url))
            return Upstream(emulator, client, admin)

        yield start


@pytest.fixture
async def upstream(upstream_for: Any) -> Upstream:
    result: Upstream = await upstream_for()
    return result


def _batch(kind: str, parents: list[str], spec: ListSpec = UNFILTERED) -> ChildBatch:
    return ChildBatch(kind, spec, parents, dict.fromkeys(parents))


def _ids(items: Any) -> list[str]:
    return [item["id"] for item in items]


def test_the_strategy_is_chosen_once_from_the_settings(upstream: Upstream) -> None:
    assert isinstance(upstream.batching("catalog"), CatalogBatching)
    assert isinstance(upstream.batching("per-parent"), PerParentBatching)


@pytest.mark.parametrize(
    ("mode", "routes"),
    [("catalog", {"GET /resource/catalog": 1}), ("per-parent", {"GET /resource/all/{id}": 3})],
)
async def test_lookups_by_id_answer_in_order_with_none_for_an_unknown_id(
    upstream: Upstream, rest: Rest, mode: Mode, routes: dict[str, int]
) -> None:
    event = (await rest(upstream.emulator, "/event/events"))[5]
    category = (await rest(upstream.emulator, "/event/category"))[0]
    await upstream.admin.reset()

    found = await upstream.batching(mode).by_ids([event["id"], UNKNOWN, category["id"]])

    assert [item["id"] if isinstance(item, dict) else item for item in found] == [
        event["id"],
        None,
        category["id"],
    ]
    assert await upstream.routes() == routes


@pytest.mark.parametrize("mode", MODES)
async def test_children_are_each_parents_own_list_in_the_stable_order(
    upstream: Upstream, rest: Rest, mode: Mode
) -> None:
    categories = _ids(await rest(upstream.emulator, "/event/category"))

    lists = await upstream.batching(mode).children(_batch(EVENT, categories))

    for category, children in zip(categories, lists, strict=True):
        assert not isinstance(children, Exception)
        assert _ids(children) == _ids(await rest(upstream.emulator, "/event/events", parent_id=category))


@pytest.mark.parametrize("mode", MODES)
async def test_a_spec_narrows_every_parents_list(upstream: Upstream, rest: Rest, mode: Mode) -> None:
    events = _ids(await rest(upstream.emulator, "/event/events"))
    title = (await rest(upstream.emulator, "/event/event_properties", parent_id=events[0]))[2]["title"]

    lists = await upstream.batching(mode).children(_batch(EVENT_PROPERTY, events, ListSpec(title=title)))

    for event, children in zip(events, lists, strict=True):
        assert not isinstance(children, Exception)
        expected = await rest(upstream.emulator, "/event/event_properties", parent_id=event, title=title)
        assert _ids(children) == _ids(expected)
        assert {child["title"] for child in children} <= {title}


@pytest.mark.parametrize("mode", MODES)
async def test_a_failed_parent_fails_alone(upstream: Upstream, rest: Rest, mode: Mode) -> None:
    categories = _ids(await rest(upstream.emulator, "/event/category"))
    parents = [categories[0], "not-an-id", categories[1]]

    # one parent per catalog chunk, so the bad id's chunk is its own
    lists = await upstream.batching(mode, max_url_bytes=1).children(_batch(EVENT, parents))

    first, bad, last = lists
    assert isinstance(bad, BadRequest)
    assert not isinstance(first, Exception)
    assert not isinstance(last, Exception)
    assert (len(first), len(last)) == (4, 4)


async def test_a_parent_over_the_catalog_cap_is_read_through_its_own_route(
    upstream_for: Any, rest: Rest
) -> None:
    upstream = await upstream_for(scale=(1, 2, 40), catalog_cap=30, page_size=10)
    events = _ids(await rest(upstream.emulator, "/event/events"))
    await upstream.admin.reset()

    lists = await upstream.batching("catalog", catalog_cap=30, page_size_hint=10).children(
        _batch(EVENT_PROPERTY, events)
    )

    for event, children in zip(events, lists, strict=True):
        assert not isinstance(children, Exception)
        assert _ids(children) == _ids(
            await rest(upstream.emulator, "/event/event_properties", parent_id=event)
        )
    assert "GET /event/event_properties" in await upstream.routes()


@pytest.mark.parametrize(
    ("mode", "route"), [("catalog", "GET /resource/catalog"), ("per-parent", "GET /event/events")]
)
async def test_a_top_level_page_comes_from_the_strategys_route(
    upstream: Upstream, rest: Rest, mode: Mode, route: str
) -> None:
    category = (await rest(upstream.emulator, "/event/category"))[1]
    title = (await rest(upstream.emulator, "/event/events", parent_id=category["id"]))[0]["title"]
    await upstream.admin.reset()

    fetch = upstream.batching(mode).list_pages(ListQuery(EVENT, parent_id=category["id"]))
    named = upstream.batching(mode).list_pages(ListQuery(EVENT, ListSpec(title=title)))
    every = upstream.batching(mode).list_pages(ListQuery(CATEGORY))

    assert _ids((await fetch(1)).results) == _ids(
        await rest(upstream.emulator, "/event/events", parent_id=category["id"])
    )
    assert _ids((await named(1)).results) == _ids(await rest(upstream.emulator, "/event/events", title=title))
    assert len((await every(1)).results) == 3
    assert route in await upstream.routes()
