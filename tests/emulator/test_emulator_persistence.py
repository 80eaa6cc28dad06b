"""A database file keeps state across restarts, and seeding happens only into an empty workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from events_gateway.emulator import EmulatorSettings, run_emulator

from ..conftest import AllPages, EmulatorFactory
from .conftest import ClientFor


async def test_state_survives_a_restart(tmp_path: Path, client_for: ClientFor, all_pages: AllPages) -> None:
    db = tmp_path / "emulator.sqlite3"
    settings = EmulatorSettings(db_path=db, write_limit=None)
    async with run_emulator(settings, port=0) as first, client_for(first) as api:
        before = await all_pages(api, "/resource/catalog")
        event = (await api.get("/event/events")).json()["results"][0]
        patched = (await api.patch(f"/event/events/{event['id']}", json={"description": "kept"})).json()
        integration = event["integration"]
        created = (
            await api.post("/event/category", json={"title": "Kept", "integration": integration})
        ).json()
        deleted = (await api.get("/event/event_properties")).json()["results"][0]
        assert (await api.delete(f"/event/event_properties/{deleted['id']}")).status_code == 204
    assert db.exists()

    async with run_emulator(settings, port=0) as second, client_for(second) as api:
        after = await all_pages(api, "/resource/catalog")
        assert len(after) == len(before)  # one created, one deleted, no reseed
        got = (await api.get(f"/event/events/{event['id']}")).json()
        assert (got["description"], got["updated_at"]) == ("kept", patched["updated_at"])
        assert (await api.get(f"/event/category/{created['id']}")).json()["title"] == "Kept"
        assert (await api.get(f"/resource/all/{deleted['id']}")).status_code == 404
        later = (
            await api.post("/event/category", json={"title": "Later", "integration": integration})
        ).json()
        assert later["created_at"] > created["created_at"]


async def test_in_memory_state_starts_fresh(client_for: ClientFor) -> None:
    settings = EmulatorSettings(write_limit=None)
    async with run_emulator(settings, port=0) as first, client_for(first) as api:
        integration = (await api.get("/integration/integrations")).json()["results"][0]["id"]
        await api.post("/event/category", json={"title": "Gone", "integration": integration})
        count = (await api.get("/event/category")).json()["count"]
    async with run_emulator(settings, port=0) as second, client_for(second) as api:
        assert (await api.get("/event/category")).json()["count"] == count - 1


async def test_seeds_are_deterministic_and_none_means_empty(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    first, second, empty = (
        await emulator_factory(),
        await emulator_factory(),
        await emulator_factory(seed="none"),
    )
    async with client_for(first) as a, client_for(second) as b, client_for(empty) as c:
        assert (await a.get("/resource/catalog")).json() == _rebased(
            (await b.get("/resource/catalog")).json(), second.api_url, first.api_url
        )
        body = (await c.get("/resource/catalog")).json()
        assert (body["count"], body["results"]) == (0, [])
        assert (await c.get("/integration/integrations")).json()["count"] == 0


def _rebased(body: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    links = {k: v.replace(old, new) if v else v for k, v in body["links"].items()}
    return {**body, "links": links}


async def test_scale_seed_has_the_asked_shape(
    emulator_factory: EmulatorFactory, client_for: ClientFor
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(2, 3, 4))
    async with client_for(emulator) as api:
        assert (await api.get("/event/category")).json()["count"] == 2
        assert (await api.get("/event/events")).json()["count"] == 6
        assert (await api.get("/event/event_properties")).json()["count"] == 24
        category = (await api.get("/event/category")).json()["results"][0]
        assert category["children_count"] == 3
