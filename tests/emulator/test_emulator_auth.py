"""Bearer-key auth, and that a key never reads or changes another workspace's objects."""

from __future__ import annotations

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, DEMO_WORKSPACE, RunningEmulator
from events_gateway.emulator.errors import INVALID_TOKEN, NOT_AUTHENTICATED, NOT_FOUND

from ..conftest import AllPages, EmulatorFactory
from .conftest import ClientFor

OTHER_KEY = "0f9e8d7c-6b5a-4321-8fed-cba987654321"
KEYS = {DEMO_API_KEY: DEMO_WORKSPACE, OTHER_KEY: "other"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Token abc"}, {"Authorization": "Basic dXNlcjpwYXNz"}]
)
async def test_missing_credentials_are_401(emulator: RunningEmulator, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=emulator.api_url, headers=headers) as client:
        for path in ("/event/category", "/resource/catalog/", "/event/events/x"):
            response = await client.get(path)
            assert response.status_code == 401
            assert response.json() == {"detail": NOT_AUTHENTICATED}
        assert (await client.post("/event/events", json={})).status_code == 401


async def test_unknown_key_is_401_invalid_token(emulator: RunningEmulator, client_for: ClientFor) -> None:
    async with client_for(emulator, "not-a-key") as client:
        response = await client.get("/event/category")
    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_TOKEN}


async def test_bearer_scheme_is_case_insensitive(emulator: RunningEmulator) -> None:
    headers = {"Authorization": f"bearer {DEMO_API_KEY}"}
    async with httpx.AsyncClient(base_url=emulator.api_url, headers=headers) as client:
        assert (await client.get("/event/category")).status_code == 200


async def test_workspaces_see_only_their_own_objects(
    emulator_factory: EmulatorFactory, client_for: ClientFor, all_pages: AllPages
) -> None:
    emulator = await emulator_factory(api_keys=KEYS)
    async with client_for(emulator, DEMO_API_KEY) as demo, client_for(emulator, OTHER_KEY) as other:
        mine = await all_pages(demo, "/resource/catalog")
        theirs = await all_pages(other, "/resource/catalog")
        assert len(mine) == len(theirs)
        assert not {r["id"] for r in mine} & {r["id"] for r in theirs}
        assert {r["workspace_id"] for r in mine}.isdisjoint({r["workspace_id"] for r in theirs})

        event = mine[0]
        for method, path in (
            ("GET", f"/resource/all/{event['id']}"),
            ("PATCH", f"/resource/all/{event['id']}"),
            ("DELETE", f"/resource/all/{event['id']}"),
            ("GET", f"/event/category/{event['id']}"),
            ("GET", f"/integration/integrations/{event['integration']}"),
        ):
            response = await other.request(method, path, json={"title": "stolen"})
            assert response.status_code == 404
            assert response.json() == {"detail": NOT_FOUND}
        assert (await demo.get(f"/resource/all/{event['id']}")).json() == event


async def test_a_key_cannot_attach_to_another_workspaces_parent_or_integration(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(api_keys=KEYS)
    async with client_for(emulator, DEMO_API_KEY) as demo, client_for(emulator, OTHER_KEY) as other:
        category = (await demo.get("/event/category")).json()["results"][0]
        own_integration = (await other.get("/integration/integrations")).json()["results"][0]["id"]
        response = await other.post(
            "/event/events", json={"title": "x", "parent": category["id"], "integration": own_integration}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["parent"]
        response = await other.post(
            "/event/category", json={"title": "x", "integration": category["integration"]}
        )
        assert response.status_code == 400
        assert list(response.json()) == ["integration"]
        assert (await demo.get(f"/event/category/{category['id']}")).json() == category
