"""The wheel of ``make dist`` serves a working GraphiQL on its own: built, installed into a fresh virtual
environment with nothing of the checkout, started with ``events-gateway serve`` on a free port, and
driven in the headless browser through the demo query.

Slow (a wheel build and an install from the package registry, about a minute), so there is one test.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest

from ..conftest import clean_env
from .browser import chromium, console_errors, open_graphiql, require_browser, run_query

pytestmark = [pytest.mark.browser, pytest.mark.packaging]

REPO = Path(__file__).resolve().parents[2]
#: Bounds each step so a stuck build or server fails the test instead of hanging it.
STEP_WAIT = 600
_URL = re.compile(r"GraphiQL at (http://127\.0\.0\.1:\d+/graphql)")


async def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *map(str, command),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), STEP_WAIT)
    assert process.returncode == 0, f"{command} failed:\n{output.decode(errors='replace')}"
    return output.decode(errors="replace")


def run_demo(url: str, profile: Path) -> tuple[str, list[str]]:
    with chromium(profile) as driver:
        open_graphiql(driver, url)
        return run_query(driver), [entry["message"] for entry in console_errors(driver)]


async def test_the_wheel_alone_serves_graphiql_from_a_fresh_virtual_environment(tmp_path: Path) -> None:
    require_browser()
    dist = tmp_path / "dist"
    await run("make", "--no-print-directory", "dist", f"DIST={dist}", cwd=REPO)
    (wheel,) = dist.glob("events_gateway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "events_gateway/server/assets/graphiql/graphiql.min.js" in names
    assert "events_gateway/server/static/call-plan.js" in names

    venv = tmp_path / "venv"
    away = tmp_path / "elsewhere"  # nothing of the checkout on the path, in the cwd or in the environment
    away.mkdir()
    env = {
        name: value
        for name, value in clean_env().items()
        if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    await run(sys.executable, "-m", "venv", venv, cwd=away, env=env)
    await run(
        venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=away, env=env
    )
    located = await run(
        venv / "bin" / "python",
        "-c",
        "import events_gateway; print(events_gateway.__file__)",
        cwd=away,
        env=env,
    )
    assert str(REPO) not in located

    server = await asyncio.create_subprocess_exec(
        str(venv / "bin" / "events-gateway"),
        "serve",
        "--port",
        "0",
        cwd=away,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        first = await asyncio.wait_for(server.stdout.readline(), STEP_WAIT)
        found = _URL.search(first.decode())
        assert found is not None, first
        result, errors = await asyncio.to_thread(run_demo, found.group(1), tmp_path / "profile")
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), STEP_WAIT)

    data = json.loads(result)["data"]
    assert "Landing Page" in {category["title"] for category in data["eventCategories"]["nodes"]}
    assert errors == []
