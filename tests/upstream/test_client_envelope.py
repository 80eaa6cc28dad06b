"""Envelope variants the emulator never produces, served by small loopback servers of our own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from events_gateway.graph.projection import GATEWAY_KEYS
from events_gateway.upstream import (
    NotFound,
    UpstreamCall,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    UpstreamUnavailable,
)
from events_gateway.upstream._exceptions import MSG_FOREIGN_LINK

from .conftest import OddUpstream

CATEGORY = "c8878ff2-67e4-460c-a5b5-ce1ee0209d49"
EVENT = "43d7c33d-ad74-4dbb-bfad-c172f6701afb"


class Scripted:
    """Answers each request with the body the test set for its path; records what it was asked."""

    def __init__(self) -> None:
        self.bodies: dict[str, Any] = {}
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.path_qs)
        if request.path not in self.bodies:
            return web.json_response({"detail": "Not found."}, status=404)
        return web.json_response(self.bodies[request.path])


@pytest.fixture(params=[None, GATEWAY_KEYS], ids=["whole", "projected"])
async def scripted(
    odd_upstream: OddUpstream, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Scripted, UpstreamSession, str]]:
    """Each variant is read whole, and projected to the keys the gateway itself reads (as for a query
    of ids and titles), which must not change how it is read."""
    server = Scripted()
    base = await odd_upstream(server.handle)
    client = UpstreamClient(UpstreamSettings(base))
    session = client.session("key")
    session.project(request.param)
    yield server, session, base
    await client.aclose()


async def test_none_strings_and_missing_keys_mean_no_next_page(
    scripted: tuple[Scripted, UpstreamSession, str],
) -> None:
    server, session, _ = scripted
    server.bodies["/api/v1/event/events/"] = {
        "links": {"next": "None", "previous": "None"},
        "meta": {"page": 1, "previous_page": "None", "next_page": "None"},
        "results": [{"id": EVENT, "title": "a"}],
    }
    page = await session.list_events()
    assert page.next_url is None
    assert page.count == 1  # no count: the number of results
    assert page.total_pages is None  # no total_pages: unknown, not guessed
    assert page.page == 1


async def test_a_drf_style_top_level_next(scripted: tuple[Scripted, UpstreamSession, str]) -> None:
    server, session, base = scripted
    server.bodies["/api/v1/event/events/"] = {
        "count": 2,
        "next": f"{base}/event/events/?page=2&cursor=opaque",
        "previous": None,
        "results": [{"id": EVENT}],
    }
    page = await session.list_events()
    assert page.next_url == f"{base}/event/events/?page=2&cursor=opaque"
    assert page.count == 2


async def test_links_next_wins_over_top_level_next(scripted: tuple[Scripted, UpstreamSession, str]) -> None:
    server, session, base = scripted
    server.bodies["/api/v1/event/events/"] = {
        "links": {"next": f"{base}/event/events/?page=2"},
        "next": "None",
        "results": [],
    }
    assert (await session.list_events()).next_url == f"{base}/event/events/?page=2"


async def test_missing_results_is_an_empty_page(scripted: tuple[Scripted, UpstreamSession, str]) -> None:
    server, session, _ = scripted
    server.bodies["/api/v1/event/events/"] = {"count": 0, "links": {"next": None}}
    page = await session.list_events()
    assert (page.results, page.count, page.next_url) == ([], 0, None)


async def test_resources_are_normalised(scripted: tuple[Scripted, UpstreamSession, str]) -> None:
    server, session, _ = scripted
    bare_upper = EVENT.replace("-", "").upper()
    slim = {"id": bare_upper, "parent_id": CATEGORY.replace("-", ""), "title": "Viewed", "extra": {"k": 1}}
    full_null = {"id": EVENT, "parent": None, "parent_id": None}
    expanded = {"id": EVENT, "parent": {"id": CATEGORY.upper(), "title": "x"}}
    server.bodies["/api/v1/event/events/"] = {"results": [slim, full_null, expanded]}

    first, second, third = (await session.list_events()).results

    assert first["id"] == EVENT
    assert first["parent"] == CATEGORY
    # other keys kept as sent; a projected page keeps only those named
    assert first.get("extra") == ({"k": 1} if session.page_decoder is None else None)
    assert first["title"] == "Viewed"
    assert second["parent"] is None
    assert third["parent"] == CATEGORY


@pytest.mark.parametrize("body", [{"results": [1, 2]}, {"results": "x"}, [1, 2], "text"])
async def test_a_page_that_is_not_a_page_of_objects_is_unreadable(
    scripted: tuple[Scripted, UpstreamSession, str], body: Any
) -> None:
    server, session, _ = scripted
    server.bodies["/api/v1/event/events/"] = body
    with pytest.raises(UpstreamUnavailable):
        await session.list_events()


async def test_a_bare_list_of_objects_is_one_last_page(
    scripted: tuple[Scripted, UpstreamSession, str],
) -> None:
    server, session, _ = scripted
    server.bodies["/api/v1/event/events/"] = [{"id": EVENT, "title": "a"}]
    page = await session.list_events()
    assert [resource["title"] for resource in page.results] == ["a"]
    assert page.next_url is None
    assert page.total_pages == 1


async def test_a_single_object_is_normalised(scripted: tuple[Scripted, UpstreamSession, str]) -> None:
    server, session, _ = scripted
    server.bodies[f"/api/v1/event/events/{EVENT}/"] = {"id": EVENT.upper(), "parent_id": CATEGORY.upper()}
    event = await session.get_event(EVENT)
    assert (event["id"], event["parent"]) == (EVENT, CATEGORY)


async def test_follow_gets_the_link_exactly_as_given(scripted: tuple[Scripted, UpstreamSession, str]) -> None:
    server, _, base = scripted
    origin = base.removesuffix("/api/v1")
    # the docs' own links drop the /api/v1 prefix, and carry whatever query the upstream likes
    server.bodies["/resource/all/"] = {
        "links": {"next": None},
        "meta": {"page": 2},
        "results": [{"id": EVENT}],
    }
    calls: list[UpstreamCall] = []
    client = UpstreamClient(UpstreamSettings(base))
    try:
        page = await client.session("key", observer=calls.append).follow(
            f"{origin}/resource/all/?page=2&filter=%7B%7D", batch_size=3
        )
    finally:
        await client.aclose()

    assert server.seen == ["/resource/all/?page=2&filter=%7B%7D"]
    assert page.page == 2
    assert calls[0].route == "GET /resource/all"
    assert calls[0].batch_size == 3


async def test_follow_resolves_a_relative_link_on_the_same_origin(
    scripted: tuple[Scripted, UpstreamSession, str],
) -> None:
    server, session, _ = scripted
    server.bodies["/api/v1/event/category/"] = {"results": [{"id": CATEGORY}]}
    page = await session.follow("/api/v1/event/category/?page=3")
    assert server.seen == ["/api/v1/event/category/?page=3"]
    assert page.page == 3  # no meta: the page number the link asked for


async def test_a_404_past_the_first_page_of_a_followed_link_ends_the_list(
    scripted: tuple[Scripted, UpstreamSession, str],
) -> None:
    _, session, base = scripted
    page = await session.follow(f"{base}/event/events/?page=4")
    assert (page.results, page.next_url, page.page) == ([], None, 4)
    with pytest.raises(NotFound):
        await session.follow(f"{base}/event/events/")


@pytest.mark.parametrize("kind", ["other host", "other port", "other scheme"])
async def test_follow_refuses_a_link_to_anywhere_else(
    scripted: tuple[Scripted, UpstreamSession, str], odd_upstream: OddUpstream, kind: str
) -> None:
    server, session, base = scripted
    elsewhere = Scripted()
    other = await odd_upstream(elsewhere.handle)
    link = {
        "other host": base.replace("127.0.0.1", "localhost") + "/event/events/?page=2",
        "other port": f"{other}/event/events/?page=2",
        "other scheme": base.replace("http://", "https://") + "/event/events/?page=2",
    }[kind]

    with pytest.raises(UpstreamUnavailable) as caught:
        await session.follow(link)

    assert caught.value.message == MSG_FOREIGN_LINK
    assert elsewhere.seen == []
    assert server.seen == []


async def test_a_link_that_is_not_a_url_is_unreadable(
    scripted: tuple[Scripted, UpstreamSession, str],
) -> None:
    _, session, _ = scripted
    with pytest.raises(UpstreamUnavailable):
        await session.follow("http://[::1")


async def test_count_and_total_pages_as_given(scripted: tuple[Scripted, UpstreamSession, str]) -> None:
    server, session, _ = scripted
    server.bodies["/api/v1/resource/catalog/"] = {
        "count": 315,
        "total_pages": 7,
        "meta": {"page": 1},
        "results": [],
        "resource_totals": {},
    }
    page = await session.list_resources()
    assert (page.count, page.total_pages) == (315, 7)
    assert server.seen == ["/api/v1/resource/catalog/?page=1"]
