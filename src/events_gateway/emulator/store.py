"""The emulator's state in SQLite: integrations and resources, one workspace column apart.

Plain ``sqlite3`` on the event loop's thread: every method runs to completion without an ``await``, so
concurrent requests never interleave inside a transaction, and each write is one transaction that either
commits whole or rolls back (nothing half-written on any error). A file keeps state across restarts;
without one the database lives in memory.

Hot, filterable columns (type, parent, integration, title, native type, timestamps, external usage) are
real columns with indexes; the other fields live in one JSON document per row (``data``), which the
catalog filter reads with ``json_extract``.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

from .model import Clock, default_data, render_integration, render_resource

SCHEMA_VERSION = 1

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS integrations (
    id TEXT PRIMARY KEY,
    workspace TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS integrations_by_workspace ON integrations (workspace, created_at, id);
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY,
    workspace TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    parent_id TEXT REFERENCES resources (id) ON DELETE CASCADE,
    integration_id TEXT REFERENCES integrations (id),
    title TEXT NOT NULL,
    native_type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    external_usage INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
-- One kind in its stable order, carrying parent_id so that a parent filter over a kind reads the index
-- alone (it replaces an index without parent_id).
DROP INDEX IF EXISTS resources_by_kind;
CREATE INDEX IF NOT EXISTS resources_by_kind_order
    ON resources (workspace, entity_type, created_at, id, parent_id);
CREATE INDEX IF NOT EXISTS resources_by_order ON resources (workspace, created_at, id);
CREATE INDEX IF NOT EXISTS resources_by_usage ON resources (workspace, external_usage);
-- A parent's children of one kind in their stable order: per-parent lists, catalog "parent_id in" filters
-- and the live children_count all read it (it replaces an index on parent_id alone).
DROP INDEX IF EXISTS resources_by_parent;
CREATE INDEX IF NOT EXISTS resources_by_parent_kind ON resources (parent_id, entity_type, created_at, id);
CREATE INDEX IF NOT EXISTS resources_by_integration ON resources (integration_id);
"""

_COLUMNS = """
SELECT r.id, r.entity_type, r.parent_id, r.integration_id, r.title, r.native_type, r.created_at,
       r.updated_at, r.external_usage, r.data, r.workspace,
       (SELECT COUNT(*) FROM resources AS c WHERE c.parent_id = r.id) AS children_count,
       p.title AS parent_title, g.title AS grandparent_title
"""
_ANCESTORS = """
LEFT JOIN resources AS p ON p.id = r.parent_id
LEFT JOIN resources AS g ON g.id = p.parent_id
"""
_SELECT = f"{_COLUMNS} FROM resources AS r {_ANCESTORS}"
#: One page of a list: the page's rows are chosen first, from the filter and order alone, and only those
#: get their child count and ancestors (joined before the sort, every row before the offset paid for them).
_PAGE = (
    "{columns} FROM (SELECT r.rowid AS page_row FROM resources AS r WHERE r.workspace = ? AND ({where})"
    " ORDER BY {order_by} LIMIT ? OFFSET ?) AS page"
    " JOIN resources AS r ON r.rowid = page.page_row {ancestors} ORDER BY {order_by}"
)

_INSERT_RESOURCE = (
    "INSERT INTO resources (id, workspace, entity_type, parent_id, integration_id, title, native_type,"
    " created_at, updated_at, external_usage, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_INTEGRATION = (
    "INSERT INTO integrations (id, workspace, name, type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
)

_RESOURCE_COLUMNS = ("entity_type", "parent_id", "integration_id", "title", "native_type", "external_usage")


def _ci_contains(haystack: object, needle: object) -> bool:
    if not isinstance(haystack, str) or not isinstance(needle, str):
        return False
    return needle.casefold() in haystack.casefold()


@dataclass(slots=True)
class NewResource:
    """A resource to insert; ``data`` overrides the defaults of its kind."""

    id: str
    entity_type: str
    title: str
    parent_id: str | None
    integration_id: str | None
    native_type: str | None = None
    external_usage: int = 0
    created_at: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class NewIntegration:
    id: str
    name: str
    type: str
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceChanges:
    """A validated partial update: column values and JSON-document values to set."""

    columns: Mapping[str, Any]
    data: Mapping[str, Any]


#: Rows whose encoded form is kept (a few thousand objects: a seeded workspace and then some).
RENDER_CACHE_SIZE = 16_384


@functools.lru_cache(maxsize=RENDER_CACHE_SIZE)
def _encoded(row: tuple[Any, ...]) -> orjson.Fragment:
    """One resource's JSON, ready to embed in a response.

    Keyed by every column ``_SELECT`` reads, so the result is a pure function of its key: any change to the
    object, its live child count or an ancestor's title is a different key, never a stale answer. A list
    page of objects already served costs a dictionary lookup per object instead of a render and an encode.
    """
    (
        resource_id, entity_type, parent_id, integration_id, title, native_type, created_at,
        updated_at, external_usage, data, workspace, children_count, parent_title, grandparent_title,
    ) = row  # fmt: skip
    ancestors = [title for title in (grandparent_title, parent_title) if title is not None]
    body = render_resource(
        row={
            "id": resource_id,
            "entity_type": entity_type,
            "parent_id": parent_id,
            "integration_id": integration_id,
            "title": title,
            "native_type": native_type,
            "created_at": created_at,
            "updated_at": updated_at,
            "external_usage": external_usage,
        },
        data=orjson.loads(data),
        workspace=workspace,
        children_count=children_count,
        ancestor_titles=ancestors,
    )
    return orjson.Fragment(orjson.dumps(body))


#: List answers (counts and pages) kept until the next write.
READ_CACHE_SIZE = 4_096


class _Reads:
    """The answers to list reads, kept until the data changes.

    Clients re-read the same lists (every page of a batch repeats its count; a client walks the same
    tree again), and an answer is a pure function of the data. Every write through the store forgets
    them all; so does a commit by another connection to the same file, which SQLite's ``data_version``
    reveals.
    """

    def __init__(self, db: sqlite3.Connection, *, shared_file: bool) -> None:
        self._db = db
        self._shared_file = shared_file
        self._answers: dict[tuple[Any, ...], Any] = {}
        self._version = self._data_version()

    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0]) if self._shared_file else 0

    def forget(self) -> None:
        self._answers.clear()

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        if self._shared_file and (version := self._data_version()) != self._version:
            self._answers.clear()
            self._version = version
        try:
            answer: T = self._answers[key]
        except KeyError:
            if len(self._answers) >= READ_CACHE_SIZE:
                self._answers.clear()
            answer = self._answers[key] = compute()
        return answer


class Store:
    """One SQLite connection; open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, connection: sqlite3.Connection, *, shared_file: bool = False) -> None:
        self._db = connection
        self._reads = _Reads(connection, shared_file=shared_file)
        # Resource reads want plain tuples: they are the render cache's keys as they come.
        self._rows = connection.cursor()
        self._rows.row_factory = None
        self.clock = Clock()
        latest = self._db.execute(
            "SELECT MAX(stamp) FROM (SELECT MAX(updated_at) AS stamp FROM resources "
            "UNION ALL SELECT MAX(updated_at) FROM integrations)"
        ).fetchone()[0]
        self.clock.advance_past(latest)

    @classmethod
    def open(cls, path: Path | None) -> Store:
        target = str(path) if path is not None else ":memory:"
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(target, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.create_function("ci_contains", 2, _ci_contains, deterministic=True)
        connection.execute("PRAGMA foreign_keys = ON")
        if path is not None:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        connection.executescript(_SCHEMA)
        connection.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        return cls(connection, shared_file=path is not None)

    def close(self) -> None:
        self._rows.close()
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._reads.forget()
        self._db.execute("COMMIT")

    # -- seeding ---------------------------------------------------------------------------------------

    def workspace_is_empty(self, workspace: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM integrations WHERE workspace = ? LIMIT 1", (workspace,)
        ).fetchone()
        return row is None

    def seed(
        self, workspace: str, integrations: Iterable[NewIntegration], resources: Iterable[NewResource]
    ) -> None:
        """Insert a workspace's starting data in one transaction."""
        with self._transaction() as db:
            rows = []
            for integration in integrations:
                stamp = integration.created_at or self.clock.now()
                rows.append((integration.id, workspace, integration.name, integration.type, stamp, stamp))
            db.executemany(
                _INSERT_INTEGRATION,
                rows,
            )
            db.executemany(
                _INSERT_RESOURCE,
                (self._row(workspace, r, r.created_at or self.clock.now()) for r in resources),
            )
        latest = self._db.execute("SELECT MAX(updated_at) FROM resources").fetchone()[0]
        self.clock.advance_past(latest)
        # Table statistics let the planner pick the parent and id indexes over a scan of the workspace
        # (without them, an "in" filter on parent_id reads every object of the kind).
        self._db.execute("ANALYZE")

    @staticmethod
    def _row(workspace: str, new: NewResource, stamp: str) -> tuple[Any, ...]:
        data = default_data(new.entity_type)
        data.update(new.data)
        return (
            new.id,
            workspace,
            new.entity_type,
            new.parent_id,
            new.integration_id,
            new.title,
            new.native_type or new.entity_type,
            stamp,
            stamp,
            new.external_usage,
            orjson.dumps(data).decode(),
        )

    # -- resources -------------------------------------------------------------------------------------

    def kind_of(self, workspace: str, resource_id: str) -> str | None:
        """The entity type of a resource of this workspace, or ``None`` when it has none by that id."""
        row = self._db.execute(
            "SELECT entity_type FROM resources WHERE id = ? AND workspace = ?", (resource_id, workspace)
        ).fetchone()
        return None if row is None else str(row["entity_type"])

    def get_resource(
        self, workspace: str, resource_id: str, kind: str | None = None
    ) -> orjson.Fragment | None:
        """The object's encoded JSON, or ``None`` when this workspace has no such object (of ``kind``)."""
        sql = f"{_SELECT} WHERE r.id = ? AND r.workspace = ?"
        params: list[Any] = [resource_id, workspace]
        if kind is not None:
            sql += " AND r.entity_type = ?"
            params.append(kind)
        row = self._rows.execute(sql, params).fetchone()
        return None if row is None else _encoded(row)

    def count_resources(self, workspace: str, where: str, params: Iterable[Any]) -> int:
        arguments = (workspace, *params)

        def count() -> int:
            sql = f"SELECT COUNT(*) FROM resources AS r WHERE r.workspace = ? AND ({where})"
            return int(self._db.execute(sql, arguments).fetchone()[0])

        return self._reads.get(("count", where, arguments), count)

    def list_resources(
        self, workspace: str, where: str, params: Iterable[Any], order_by: str, limit: int, offset: int
    ) -> Sequence[orjson.Fragment]:
        """One page of objects, each as encoded JSON (``orjson.dumps`` embeds them as they are)."""
        arguments = (workspace, *params, limit, offset)

        def page() -> tuple[orjson.Fragment, ...]:
            sql = _PAGE.format(columns=_COLUMNS, where=where, order_by=order_by, ancestors=_ANCESTORS)
            return tuple(_encoded(row) for row in self._rows.execute(sql, arguments).fetchall())

        return self._reads.get(("page", where, order_by, arguments), page)

    def create_resource(self, workspace: str, new: NewResource) -> orjson.Fragment:
        with self._transaction() as db:
            db.execute(
                _INSERT_RESOURCE,
                self._row(workspace, new, self.clock.now()),
            )
        created = self.get_resource(workspace, new.id)
        assert created is not None  # just inserted, in this same synchronous step
        return created

    def update_resource(
        self, workspace: str, resource_id: str, changes: ResourceChanges
    ) -> orjson.Fragment | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT data FROM resources WHERE id = ? AND workspace = ?", (resource_id, workspace)
            ).fetchone()
            if row is None:
                return None
            data = orjson.loads(row["data"])
            data.update(changes.data)
            columns = {name: value for name, value in changes.columns.items() if name in _RESOURCE_COLUMNS}
            assignments = ", ".join(f"{name} = ?" for name in columns)
            db.execute(
                f"UPDATE resources SET {assignments + ', ' if assignments else ''}updated_at = ?, data = ?"
                " WHERE id = ? AND workspace = ?",
                (*columns.values(), self.clock.now(), orjson.dumps(data).decode(), resource_id, workspace),
            )
        return self.get_resource(workspace, resource_id)

    def delete_resource(self, workspace: str, resource_id: str, kind: str | None = None) -> bool:
        """Delete a resource and, through the foreign keys, everything below it."""
        sql = "DELETE FROM resources WHERE id = ? AND workspace = ?"
        params: list[Any] = [resource_id, workspace]
        if kind is not None:
            sql += " AND entity_type = ?"
            params.append(kind)
        with self._transaction() as db:
            deleted = db.execute(sql, params).rowcount
        return deleted > 0

    # -- integrations ----------------------------------------------------------------------------------

    def get_integration(self, workspace: str, integration_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT * FROM integrations WHERE id = ? AND workspace = ?", (integration_id, workspace)
        ).fetchone()
        return None if row is None else render_integration(dict(row), workspace)

    def count_integrations(self, workspace: str, type_: str | None) -> int:
        sql = "SELECT COUNT(*) FROM integrations WHERE workspace = ? AND (? IS NULL OR type = ?)"
        return int(self._db.execute(sql, (workspace, type_, type_)).fetchone()[0])

    def list_integrations(
        self, workspace: str, type_: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        sql = (
            "SELECT * FROM integrations WHERE workspace = ? AND (? IS NULL OR type = ?)"
            " ORDER BY created_at, id LIMIT ? OFFSET ?"
        )
        rows = self._db.execute(sql, (workspace, type_, type_, limit, offset)).fetchall()
        return [render_integration(dict(row), workspace) for row in rows]
