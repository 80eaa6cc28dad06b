"""``events-gateway emulator``: options become settings, and the command serves and prints its URL and key."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY
from events_gateway.emulator.cli import add_emulator_command, run_command, settings_from_args


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_emulator_command(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["emulator", *argv])


def test_options_become_settings(tmp_path: Path) -> None:
    args = _parse(
        "--db", str(tmp_path / "e.db"), "--page-size", "7", "--seed", "scale", "--scale", "2,3,4",
        "--write-limit", "0", "--latency-ms", "5", "--fault-rate", "0.2", "--faults", "500,stall", "--admin",
    )  # fmt: skip
    settings = settings_from_args(args)
    assert settings.db_path == tmp_path / "e.db"
    assert (settings.page_size, settings.seed, settings.scale) == (7, "scale", (2, 3, 4))
    assert settings.write_limit is None
    assert (settings.latency_ms, settings.fault_rate, settings.faults) == (5.0, 0.2, ("500", "stall"))
    assert settings.admin is True
    defaults = settings_from_args(_parse())
    assert (defaults.write_limit, defaults.seed, defaults.admin, defaults.db_path) == (
        30,
        "demo",
        False,
        None,
    )


def test_the_test_aids_are_refused_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    """They take no key, so ``--admin`` with a non-loopback ``--host`` stops before anything is bound."""
    assert run_command(_parse("--host", "0.0.0.0", "--port", "0", "--admin")) == 2
    out = capsys.readouterr().out
    assert "'0.0.0.0' is not a loopback address" in out
    assert "Secoda Events API emulator at" not in out


async def test_the_command_serves_and_prints_url_and_demo_key() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "events_gateway.cli", "emulator", "--port", "0",
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            first = (await process.stdout.readline()).decode()
            second = (await process.stdout.readline()).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+/api/v1)", first)
        assert match, first
        assert DEMO_API_KEY in second
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {DEMO_API_KEY}"}) as client:
            response = await client.get(f"{match.group(1)}/event/category/")
        assert response.status_code == 200
        assert response.json()["count"] == 5
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            code = await process.wait()
    assert code == 0
