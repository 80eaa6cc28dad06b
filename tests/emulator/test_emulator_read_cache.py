"""The store keeps list answers until the data changes: every change, however made, is seen at once."""

from __future__ import annotations

from pathlib import Path

import orjson

from events_gateway.emulator.filters import STABLE_TAIL_SQL
from events_gateway.emulator.seed import seed_workspace
from events_gateway.emulator.store import NewResource, ResourceChanges, Store

WORKSPACE = "w"


def _titles(store: Store, where: str, params: list[str]) -> list[str]:
    page = store.list_resources(WORKSPACE, where, params, STABLE_TAIL_SQL, 100, 0)
    return [orjson.loads(bytes(orjson.dumps(item)))["title"] for item in page]


def _first(store: Store, kind: str) -> dict[str, str]:
    page = store.list_resources(WORKSPACE, "r.entity_type = ?", [kind], STABLE_TAIL_SQL, 1, 0)
    body: dict[str, str] = orjson.loads(orjson.dumps(page[0]))
    return body


def test_a_write_through_the_store_shows_in_the_next_list(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite")
    try:
        seed_workspace(store, WORKSPACE, "scale", (1, 2, 2))
        category = _first(store, "category")
        before = _titles(store, "r.entity_type = ?", ["event"])
        assert store.count_resources(WORKSPACE, "r.entity_type = ?", ["event"]) == 2

        store.create_resource(
            WORKSPACE,
            NewResource(
                id="00000000-0000-4000-8000-000000000001",
                entity_type="event",
                title="Added",
                parent_id=category["id"],
                integration_id=None,
            ),
        )
        assert _titles(store, "r.entity_type = ?", ["event"]) == [*before, "Added"]
        assert store.count_resources(WORKSPACE, "r.entity_type = ?", ["event"]) == 3

        # An ancestor's new title reaches its descendants' title_full in lists read before.
        event = _first(store, "event")
        store.update_resource(
            WORKSPACE, category["id"], ResourceChanges(columns={"title": "Renamed"}, data={})
        )
        assert _first(store, "event")["title_full"] == event["title_full"].replace(
            category["title"], "Renamed"
        )
    finally:
        store.close()


def test_a_write_by_another_connection_to_the_same_file_shows_too(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    reader, writer = Store.open(path), Store.open(path)
    try:
        seed_workspace(reader, WORKSPACE, "scale", (1, 2, 0))
        event = _first(reader, "event")
        assert _titles(reader, "r.entity_type = ?", ["event"])  # now remembered by the reader

        assert writer.delete_resource(WORKSPACE, event["id"])

        assert event["title"] not in _titles(reader, "r.entity_type = ?", ["event"])
        assert reader.count_resources(WORKSPACE, "r.entity_type = ?", ["event"]) == 1
    finally:
        reader.close()
        writer.close()
