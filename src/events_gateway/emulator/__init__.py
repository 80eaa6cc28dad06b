"""A local, stateful emulator of the Secoda Events REST API, for the default run, tests and benchmarks.

Example::

    async with run_emulator(EmulatorSettings(admin=True), port=0) as running:
        ...  # call running.api_url with "Authorization: Bearer " + DEMO_API_KEY
"""

from .admin_client import EmulatorAdmin
from .app import create_app
from .cli import add_emulator_command
from .runner import RunningEmulator, run_emulator
from .settings import (
    DEMO_API_KEY,
    DEMO_WORKSPACE,
    FAULT_KINDS,
    EmulatorSettings,
    EmulatorSettingsError,
)

__all__ = [
    "DEMO_API_KEY",
    "DEMO_WORKSPACE",
    "FAULT_KINDS",
    "EmulatorAdmin",
    "EmulatorSettings",
    "EmulatorSettingsError",
    "RunningEmulator",
    "add_emulator_command",
    "create_app",
    "run_emulator",
]
