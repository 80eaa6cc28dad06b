"""The emulator's public surface is exactly its ``__all__``."""

from __future__ import annotations

import events_gateway.emulator as emulator


def test_public_names_are_exactly_the_documented_ones() -> None:
    assert sorted(emulator.__all__) == sorted(
        [
            "DEMO_API_KEY",
            "DEMO_WORKSPACE",
            "FAULT_KINDS",
            "EmulatorAdmin",
            "EmulatorSettings",
            "EmulatorSettingsError",
            "RunningEmulator",
            "create_app",
            "run_emulator",
        ]
    )
    for name in emulator.__all__:
        assert getattr(emulator, name) is not None


def test_demo_key_looks_like_a_uuid() -> None:
    import uuid

    assert str(uuid.UUID(emulator.DEMO_API_KEY)) == emulator.DEMO_API_KEY
