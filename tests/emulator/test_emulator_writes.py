"""Create, update and delete: status codes, bodies, the hierarchy rules and every validation error."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from events_gateway.emulator.errors import (
    BLANK,
    BODY_NOT_AN_OBJECT,
    DOES_NOT_EXIST,
    NO_PARENT_ALLOWED,
    NON_FIELD_ERRORS,
    NOT_A_BOOLEAN,
    NOT_A_STRING,
    NOT_FOUND,
    REQUIRED,
    WRONG_PARENT_KIND,
)

from ..conftest import AllPages


async def _first(api: httpx.AsyncClient, path: str, **params: str) -> dict[str, Any]:
    result: dict[str, Any] = (await api.get(path, params=params)).json()["results"][0]
    return result


async def _integration(api: httpx.AsyncClient) -> str:
    return str((await _first(api, "/integration/integrations"))["id"])


async def test_create_the_whole_hierarchy(api: httpx.AsyncClient) -> None:
    integration = await _integration(api)
    team = str(uuid.uuid4())
    response = await api.post(
        "/event/category/", json={"title": "Referrals", "integration": integration, "teams": [team]}
    )
    assert response.status_code == 201
    category = response.json()
    assert category["title"] == "Referrals"
    assert category["entity_type"] == "category"
    assert category["teams"] == [team]
    assert category["children_count"] == 0

    response = await api.post(
        "/event/events",
        json={
            "title": "Referral Link Clicked",
            "parent": uuid.UUID(category["id"]).hex,
            "integration": uuid.UUID(integration).hex,
            "description": "Someone opened a referral link.",
            "entity_type": "event",
            "pii": False,
            "verified": True,
            "owners": [uuid.uuid4().hex],
        },
    )
    assert response.status_code == 201
    event = response.json()
    assert event["parent"] == category["id"]
    assert event["integration"] == integration
    assert event["verified"] is True
    assert event["title_full"] == "Referrals.Referral Link Clicked"
    assert str(uuid.UUID(event["owners"][0])) == event["owners"][0]

    response = await api.post(
        "/event/event_properties/",
        json={"title": "channel", "parent": event["id"], "integration": integration, "type": "enum",
              "enum": "email,sms", "is_required": True},
    )  # fmt: skip
    assert response.status_code == 201
    prop = response.json()
    assert (prop["type"], prop["enum_values"], prop["is_required"]) == ("enum", "email,sms", True)
    assert prop["title_full"] == "Referrals.Referral Link Clicked.channel"

    assert (await api.get(f"/event/category/{category['id']}")).json()["children_count"] == 1
    assert (await api.get(f"/event/events/{event['id']}")).json()["children_count"] == 1
    assert (await api.get(f"/event/event_properties/{prop['id']}")).json() == prop


async def test_the_older_property_path_creates_too(api: httpx.AsyncClient) -> None:
    event = await _first(api, "/event/events")
    body = {"title": "extra", "parent": event["id"], "integration": event["integration"]}
    response = await api.post("/event/property", json=body)
    assert response.status_code == 201
    assert response.json()["entity_type"] == "event_property"


async def test_new_objects_sort_after_older_ones(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    integration = await _integration(api)
    created = [
        (await api.post("/event/category", json={"title": f"New {n}", "integration": integration})).json()
        for n in range(3)
    ]
    listed = await all_pages(api, "/event/category")
    assert [c["id"] for c in listed[-3:]] == [c["id"] for c in created]
    assert len({c["created_at"] for c in listed}) == len(listed)


@pytest.mark.parametrize("path", ["/event/events/{id}", "/event/events/{id}/", "/resource/all/{id}"])
async def test_patch_is_partial_and_moves_updated_at(api: httpx.AsyncClient, path: str) -> None:
    event = await _first(api, "/event/events")
    tag = str(uuid.uuid4())
    response = await api.patch(
        path.format(id=uuid.UUID(event["id"]).hex),
        json={"description": "Changed.", "tags": [tag], "pii": True},
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["description"] == "Changed."
    assert updated["tags"] == [tag]
    assert updated["pii"] is True
    assert updated["title"] == event["title"]
    assert updated["created_at"] == event["created_at"]
    assert updated["updated_at"] > event["updated_at"]
    assert (await api.get(f"/event/events/{event['id']}")).json() == updated


async def test_patch_a_property_and_a_category(api: httpx.AsyncClient) -> None:
    prop = await _first(api, "/event/event_properties")
    response = await api.patch(
        f"/event/event_properties/{prop['id']}",
        json={"is_required": False, "regex": "^a+$", "is_array_type": True},
    )
    assert response.status_code == 200
    assert (response.json()["regex"], response.json()["is_array_type"]) == ("^a+$", True)

    category = await _first(api, "/event/category")
    response = await api.patch(f"/resource/all/{category['id']}", json={"title": "Renamed"})
    assert response.status_code == 200
    child = await _first(api, "/event/events", parent_id=category["id"])
    assert child["title_full"].startswith("Renamed.")


async def test_patch_can_move_an_event_to_another_category(api: httpx.AsyncClient) -> None:
    categories = (await api.get("/event/category")).json()["results"]
    event = await _first(api, "/event/events", parent_id=categories[0]["id"])
    response = await api.patch(f"/event/events/{event['id']}", json={"parent": categories[1]["id"]})
    assert response.status_code == 200
    assert response.json()["parent"] == categories[1]["id"]
    after = (await api.get(f"/event/category/{categories[0]['id']}")).json()
    assert after["children_count"] == categories[0]["children_count"] - 1


async def test_delete_event_takes_its_properties(api: httpx.AsyncClient) -> None:
    event = await _first(api, "/event/events")
    props = (await api.get("/event/event_properties", params={"parent_id": event["id"]})).json()["results"]
    assert props
    response = await api.delete(f"/event/events/{event['id']}/")
    assert response.status_code == 204
    assert response.content == b""
    assert (await api.get(f"/event/events/{event['id']}")).status_code == 404
    for prop in props:
        assert (await api.get(f"/resource/all/{prop['id']}")).status_code == 404
    assert (await api.delete(f"/event/events/{event['id']}")).status_code == 404


async def test_delete_a_property_then_a_category_through_resource_all(api: httpx.AsyncClient) -> None:
    prop = await _first(api, "/event/event_properties")
    assert (await api.delete(f"/event/event_properties/{prop['id']}")).status_code == 204
    event = (await api.get(f"/event/events/{prop['parent']}")).json()
    category_id = event["parent"]
    assert (await api.delete(f"/resource/all/{category_id}")).status_code == 204
    assert (await api.get(f"/event/events/{event['id']}")).status_code == 404
    remaining = (await api.get("/event/events", params={"parent_id": category_id})).json()
    assert remaining["count"] == 0


async def test_typed_delete_refuses_another_kind(api: httpx.AsyncClient) -> None:
    prop = await _first(api, "/event/event_properties")
    response = await api.delete(f"/event/events/{prop['id']}")
    assert response.status_code == 404
    assert response.json() == {"detail": NOT_FOUND}
    assert (await api.get(f"/resource/all/{prop['id']}")).status_code == 200


async def test_unknown_id_on_patch_and_delete_is_404(api: httpx.AsyncClient) -> None:
    missing = str(uuid.uuid4())
    for method in ("PATCH", "DELETE"):
        for path in ("/event/events/{id}", "/event/event_properties/{id}", "/resource/all/{id}"):
            response = await api.request(method, path.format(id=missing), json={"title": "x"})
            assert response.status_code == 404
            assert response.json() == {"detail": NOT_FOUND}


async def test_create_reports_every_missing_field_at_once(api: httpx.AsyncClient) -> None:
    response = await api.post("/event/events", json={})
    assert response.status_code == 400
    assert response.json() == {"title": [REQUIRED], "parent": [REQUIRED], "integration": [REQUIRED]}
    response = await api.post("/event/category", content=b"")
    assert response.json() == {"title": [REQUIRED], "integration": [REQUIRED]}


async def test_wrong_types_are_field_errors(api: httpx.AsyncClient) -> None:
    event = await _first(api, "/event/events")
    response = await api.patch(
        f"/event/events/{event['id']}",
        json={
            "title": "  ",
            "description": 5,
            "pii": "yes",
            "teams": "abc",
            "owners": ["nope"],
            "properties": [],
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == [BLANK]
    assert body["description"] == [NOT_A_STRING]
    assert body["pii"] == [NOT_A_BOOLEAN]
    assert set(body) == {"title", "description", "pii", "teams", "owners", "properties"}
    assert (await api.get(f"/event/events/{event['id']}")).json() == event  # nothing half-written


async def test_parents_must_exist_and_be_of_the_right_kind(api: httpx.AsyncClient) -> None:
    integration = await _integration(api)
    category = await _first(api, "/event/category")
    event = await _first(api, "/event/events")
    missing = str(uuid.uuid4())

    response = await api.post(
        "/event/events", json={"title": "x", "parent": missing, "integration": integration}
    )
    assert response.json() == {"parent": [DOES_NOT_EXIST.format(value=missing)]}
    response = await api.post(
        "/event/events", json={"title": "x", "parent": event["id"], "integration": integration}
    )
    expected = WRONG_PARENT_KIND.format(value=event["id"], child="event", parent="category")
    assert response.json() == {"parent": [expected]}
    response = await api.post(
        "/event/event_properties", json={"title": "x", "parent": category["id"], "integration": integration}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["parent"]
    response = await api.post(
        "/event/category", json={"title": "x", "parent": category["id"], "integration": integration}
    )
    assert response.json() == {"parent": [NO_PARENT_ALLOWED]}
    response = await api.post("/event/category", json={"title": "x", "integration": missing})
    assert response.json() == {"integration": [DOES_NOT_EXIST.format(value=missing)]}
    response = await api.post(
        "/event/events", json={"title": "x", "parent": "zzz", "integration": integration}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["parent"]
    response = await api.post(
        "/event/events",
        json={"title": "x", "parent": category["id"], "integration": integration, "entity_type": "table"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["entity_type"]


@pytest.mark.parametrize(
    ("content", "message_start"),
    [
        (b"{not json", "JSON parse error"),
        (b"[1, 2]", BODY_NOT_AN_OBJECT.format(type="list")),
        (b'"x"', "Invalid data"),
    ],
)
async def test_malformed_or_non_object_body_is_a_non_field_error(
    api: httpx.AsyncClient, content: bytes, message_start: str
) -> None:
    for method, path in (("POST", "/event/events"), ("PATCH", "/event/events/{id}")):
        event = await _first(api, "/event/events")
        response = await api.request(
            method, path.format(id=event["id"]), content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        body = response.json()
        assert list(body) == [NON_FIELD_ERRORS]
        assert body[NON_FIELD_ERRORS][0].startswith(message_start)


async def test_concurrent_writes_all_land_once(api: httpx.AsyncClient) -> None:
    import asyncio

    integration = await _integration(api)
    before = (await api.get("/event/category")).json()["count"]
    responses = await asyncio.gather(
        *(
            api.post("/event/category", json={"title": f"Parallel {n}", "integration": integration})
            for n in range(20)
        )
    )
    assert [r.status_code for r in responses] == [201] * 20
    created = [r.json() for r in responses]
    assert len({c["id"] for c in created}) == len({c["created_at"] for c in created}) == 20
    assert (await api.get("/event/category")).json()["count"] == before + 20
