"""Every read route, with and without a trailing slash, and the shape of what it returns."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from events_gateway.emulator import RunningEmulator
from events_gateway.emulator.errors import METHOD_NOT_ALLOWED, NOT_FOUND

from ..conftest import AllPages

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

RESOURCE_FIELDS = {
    "id", "created_at", "updated_at", "entity_type", "native_type", "bookmarked_by", "icon", "title",
    "title_full", "title_cased", "description", "definition", "definition_version", "multiplayers",
    "multiplayer_last_modified_by", "multiplayer_last_modified", "owners", "owners_groups", "collections",
    "tags", "teams", "subscribers", "workspace_id", "total_usage", "internal_usage", "external_usage",
    "internal_users", "external_users", "published", "archived", "pii", "verified", "url", "parent",
    "children_count", "integration", "properties", "external_updated_at", "databuilder_id", "viewers_delta",
    "search_metadata", "pristine", "sources",
}  # fmt: skip
PROPERTY_FIELDS = RESOURCE_FIELDS | {"type", "is_required", "enum_values", "regex", "is_array_type"}

LISTS = ["/event/category", "/event/events", "/event/event_properties", "/resource/catalog",
         "/integration/integrations"]  # fmt: skip


def _is_hyphenated_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


async def test_healthcheck_answers_ok_without_a_key(emulator: RunningEmulator) -> None:
    async with httpx.AsyncClient() as client:
        for path in ("/healthcheck", "/healthcheck/"):
            response = await client.get(f"{emulator.api_url}{path}")
            assert response.status_code == 200
            assert response.json() == {"status": "OK"}


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("slash", ["", "/"])
async def test_every_list_answers_with_and_without_trailing_slash(
    api: httpx.AsyncClient, path: str, slash: str
) -> None:
    response = await api.get(f"{path}{slash}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"links", "meta", "count", "total_pages", "resource_totals", "results"}
    assert body["count"] > 0
    assert body["results"]


async def test_categories_events_and_properties_carry_their_fields(api: httpx.AsyncClient) -> None:
    category = (await api.get("/event/category", params={"title": "Checkout"})).json()["results"][0]
    assert set(category) == RESOURCE_FIELDS
    assert category["entity_type"] == "category"
    assert category["parent"] is None
    assert _is_hyphenated_uuid(category["id"])
    assert _is_hyphenated_uuid(category["workspace_id"])
    assert TIMESTAMP.match(category["created_at"])
    assert TIMESTAMP.match(category["updated_at"])

    events = (await api.get("/event/events", params={"parent_id": category["id"]})).json()["results"]
    assert category["children_count"] == len(events) > 0
    event = events[0]
    assert set(event) == RESOURCE_FIELDS
    assert event["entity_type"] == "event"
    assert event["parent"] == category["id"]
    assert event["title_full"] == f"Checkout.{event['title']}"

    properties = (await api.get("/event/event_properties", params={"parent_id": event["id"]})).json()[
        "results"
    ]
    assert event["children_count"] == len(properties) > 0
    prop = properties[0]
    assert set(prop) == PROPERTY_FIELDS
    assert prop["entity_type"] == "event_property"
    assert prop["parent"] == event["id"]
    assert prop["children_count"] == 0


async def test_demo_data_has_typed_required_and_enum_properties(
    api: httpx.AsyncClient, all_pages: AllPages
) -> None:
    properties = await all_pages(api, "/event/event_properties")
    assert {p["type"] for p in properties} == {"string", "number", "boolean", "enum"}
    assert any(p["is_required"] for p in properties)
    assert not all(p["is_required"] for p in properties)
    assert all(p["enum_values"] for p in properties if p["type"] == "enum")
    categories = {c["title"] for c in await all_pages(api, "/event/category")}
    assert {"Landing Page", "Checkout", "Onboarding", "Search", "Account"} <= categories
    integrations = {i["name"] for i in await all_pages(api, "/integration/integrations")}
    assert integrations == {"Segment", "Amplitude"}


@pytest.mark.parametrize(
    ("list_path", "detail_path"),
    [
        ("/event/category", "/event/category/{id}"),
        ("/event/events", "/event/events/{id}"),
        ("/event/event_properties", "/event/event_properties/{id}"),
        ("/event/events", "/resource/all/{id}"),
        ("/integration/integrations", "/integration/integrations/{id}"),
    ],
)
async def test_each_object_is_readable_by_id_hyphenated_or_not_with_or_without_slash(
    api: httpx.AsyncClient, list_path: str, detail_path: str
) -> None:
    first = (await api.get(list_path)).json()["results"][0]
    for object_id in (first["id"], uuid.UUID(first["id"]).hex):
        for slash in ("", "/"):
            response = await api.get(detail_path.format(id=object_id) + slash)
            assert response.status_code == 200
            assert response.json() == first


async def test_integrations_hide_credentials_and_filter_by_type(api: httpx.AsyncClient) -> None:
    body = (await api.get("/integration/integrations", params={"type": "segment"})).json()
    assert [i["name"] for i in body["results"]] == ["Segment"]
    assert "credentials" not in body["results"][0]
    assert {"id", "name", "type", "workspace_id"} <= set(body["results"][0])


async def test_resource_all_serves_every_kind(api: httpx.AsyncClient) -> None:
    for path in ("/event/category", "/event/events", "/event/event_properties"):
        first = (await api.get(path)).json()["results"][0]
        response = await api.get(f"/resource/all/{first['id']}")
        assert response.json() == first


async def test_a_typed_route_does_not_serve_another_kind(api: httpx.AsyncClient) -> None:
    category = (await api.get("/event/category")).json()["results"][0]
    response = await api.get(f"/event/events/{category['id']}")
    assert response.status_code == 404
    assert response.json() == {"detail": NOT_FOUND}


@pytest.mark.parametrize("object_id", [str(uuid.uuid4()), "not-a-uuid"])
async def test_unknown_ids_are_not_found(api: httpx.AsyncClient, object_id: str) -> None:
    for path in (
        "/event/category/{id}",
        "/event/events/{id}",
        "/resource/all/{id}",
        "/integration/integrations/{id}",
    ):
        response = await api.get(path.format(id=object_id))
        assert response.status_code == 404
        assert response.json() == {"detail": NOT_FOUND}


async def test_unknown_route_is_not_found_in_the_envelope(api: httpx.AsyncClient) -> None:
    response = await api.get("/event/nothing")
    assert response.status_code == 404
    assert response.json() == {"detail": NOT_FOUND}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/event/events"),
        ("DELETE", "/event/category"),
        ("PATCH", "/event/category/{id}"),
        ("DELETE", "/event/category/{id}/"),
        ("POST", "/resource/all/{id}"),
        ("POST", "/integration/integrations"),
        ("POST", "/healthcheck"),
    ],
)
async def test_wrong_method_is_405_with_detail(api: httpx.AsyncClient, method: str, path: str) -> None:
    category = (await api.get("/event/category")).json()["results"][0]
    response = await api.request(method, path.format(id=category["id"]), json={})
    assert response.status_code == 405
    assert response.json() == {"detail": METHOD_NOT_ALLOWED.format(method=method)}
    assert "Allow" in response.headers


async def test_lists_filter_by_title_parent_and_integration(
    api: httpx.AsyncClient, all_pages: AllPages
) -> None:
    integrations = (await api.get("/integration/integrations")).json()["results"]
    segment = next(i for i in integrations if i["name"] == "Segment")
    events = await all_pages(api, "/event/events", integration_id=segment["id"])
    assert events
    assert all(e["integration"] == segment["id"] for e in events)
    everything = await all_pages(api, "/event/events")
    assert len(events) < len(everything)

    exact = (await api.get("/event/category", params={"title": "Landing Page"})).json()["results"]
    assert [c["title"] for c in exact] == ["Landing Page"]
    assert (await api.get("/event/category", params={"title": "landing page"})).json()["count"] == 0

    bare = uuid.UUID(exact[0]["id"]).hex
    by_parent = await all_pages(api, "/event/events", parent_id=bare)
    assert by_parent
    assert {e["parent"] for e in by_parent} == {exact[0]["id"]}


async def test_a_malformed_list_filter_id_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/event/events", params={"parent_id": "nope"})
    assert response.status_code == 400
    assert list(response.json()) == ["parent_id"]
