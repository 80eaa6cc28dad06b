"""The page envelope, following pages to the end, and what lies past it."""

from __future__ import annotations

import httpx
import pytest

from events_gateway.emulator.errors import INVALID_PAGE

from ..conftest import AllPages, EmulatorFactory
from .conftest import ClientFor


async def test_pages_link_to_each_other_with_absolute_urls(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(page_size=4)
    async with client_for(emulator) as api:
        first = (await api.get("/event/event_properties/", params={"title": "session_id"})).json()
        count = first["count"]
        assert count > 8
        assert first["total_pages"] == -(-count // 4)
        assert first["meta"] == {"page": 1, "previous_page": None, "next_page": 2}
        assert first["links"]["previous"] is None
        assert first["resource_totals"] == {}
        next_url = first["links"]["next"]
        assert next_url.startswith(emulator.api_url + "/event/event_properties/?")
        assert "title=session_id" in next_url
        assert "page=2" in next_url

        second = (await api.get(next_url)).json()
        assert second["meta"]["page"] == 2
        assert second["meta"]["previous_page"] == 1
        # DRF drops ``page`` from the link to page 1.
        assert second["links"]["previous"] == f"{emulator.api_url}/event/event_properties/?title=session_id"


async def test_following_next_visits_every_object_once_in_created_order(
    emulator_factory: EmulatorFactory, client_for: ClientFor, all_pages: AllPages
) -> None:
    emulator = await emulator_factory(page_size=7)
    async with client_for(emulator) as api:
        count = (await api.get("/event/event_properties")).json()["count"]
        results = await all_pages(api, "/event/event_properties")
    assert len(results) == count == len({r["id"] for r in results})
    keys = [(r["created_at"], r["id"]) for r in results]
    assert keys == sorted(keys)


async def test_last_page_has_no_next(api: httpx.AsyncClient) -> None:
    first = (await api.get("/event/event_properties")).json()
    last = (await api.get("/event/event_properties", params={"page": first["total_pages"]})).json()
    assert last["links"]["next"] is None
    assert last["meta"]["next_page"] is None
    assert len(last["results"]) == first["count"] - 50 * (first["total_pages"] - 1)
    by_word = (await api.get("/event/event_properties", params={"page": "last"})).json()
    assert by_word["results"] == last["results"]


@pytest.mark.parametrize("page", ["99", "0", "-1", "two", "1.5", ""])
async def test_a_page_past_the_end_or_not_a_whole_number_is_invalid(
    api: httpx.AsyncClient, page: str
) -> None:
    response = await api.get("/event/category", params={"page": page})
    assert response.status_code == 404
    assert response.json() == {"detail": INVALID_PAGE}


async def test_page_one_of_an_empty_list_is_fine(api: httpx.AsyncClient) -> None:
    response = await api.get("/event/events", params={"title": "No such event"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 0
    assert body["results"] == []
    assert body["total_pages"] == 1
    assert body["links"] == {"next": None, "previous": None}
    assert (await api.get("/event/events", params={"title": "No such event", "page": 2})).status_code == 404


async def test_page_size_is_configurable(emulator_factory: EmulatorFactory, client_for: ClientFor) -> None:
    emulator = await emulator_factory(page_size=3)
    async with client_for(emulator) as api:
        body = (await api.get("/event/category")).json()
    assert len(body["results"]) == 3
    assert body["total_pages"] == 2
