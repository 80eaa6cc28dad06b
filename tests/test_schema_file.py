"""``schema.graphql`` is what clients generate types from: it must say exactly what the code serves."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from events_gateway.graph import build_schema
from events_gateway.settings import Settings

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    exported = print_schema(build_schema(Settings())) + "\n"
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert committed == exported, (
        "schema.graphql is out of date; regenerate it with "
        "`.venv/bin/events-gateway export-schema -o schema.graphql`"
    )
