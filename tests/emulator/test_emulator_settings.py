"""Settings refuse values the emulator cannot run with, naming the setting."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorSettings, EmulatorSettingsError


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"api_keys": {}}, "api_keys"),
        ({"seed": "lots"}, "seed"),
        ({"scale": (1, 2)}, "scale"),
        ({"page_size": 0}, "page_size"),
        ({"catalog_cap": 0}, "catalog_cap"),
        ({"write_limit": -1}, "write_limit"),
        ({"latency_ms": -5}, "latency_ms"),
        ({"fault_rate": 1.5}, "fault_rate"),
        ({"faults": ("boom",)}, "faults"),
        ({"fault_rate": 0.1, "faults": ()}, "faults"),
    ],
)
def test_bad_values_are_refused(changes: dict[str, Any], name: str) -> None:
    with pytest.raises(EmulatorSettingsError, match=name):
        EmulatorSettings(**changes)


def test_repr_never_shows_keys_and_paths_become_paths() -> None:
    settings = EmulatorSettings(db_path="x.sqlite3")  # type: ignore[arg-type]
    assert DEMO_API_KEY not in repr(settings)
    assert settings.db_path == Path("x.sqlite3")


def test_demo_key_looks_like_a_uuid() -> None:
    assert str(uuid.UUID(DEMO_API_KEY)) == DEMO_API_KEY
