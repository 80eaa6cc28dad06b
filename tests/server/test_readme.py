"""The README's settings table names every setting the gateway reads, so operators can find them all."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from events_gateway.server import DEMO_QUERY
from events_gateway.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table() -> None:
    for field in fields(Settings):
        if field.name in ("upstream_url", "api_key"):
            continue
        assert f"| `EVENTS_GATEWAY_{field.name.upper()}` |" in README, field.name
    assert "| `EVENTS_API_URL` |" in README
    assert "| `EVENTS_API_KEY` |" in README


def test_the_readme_shows_the_query_graphiql_opens_with() -> None:
    operation = DEMO_QUERY[DEMO_QUERY.index("query ") :].split()
    shown = README[README.index("query CategoriesEventsProperties") :].split("```")[0].split()
    flatten = "".join(shown).replace("{", " { ").replace("}", " } ").split()
    assert flatten == "".join(operation).replace("{", " { ").replace("}", " } ").split()
