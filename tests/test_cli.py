"""``events-gateway serve`` and ``export-schema`` as a user runs them: a real process on a real port."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.server import DEMO_QUERY

from .conftest import SCRIPT, clean_env, serve_on_a_taken_port

ROOT = Path(__file__).resolve().parents[1]
#: Generous bound on how long to wait for a line; only there so a broken build fails instead of hanging.
LINE_WAIT = 60.0


@dataclass
class Served:
    process: asyncio.subprocess.Process
    banner: list[str]

    @property
    def graphiql_url(self) -> str:
        match = re.search(r"GraphiQL at (http://\S+/graphql)", "\n".join(self.banner))
        assert match, self.banner
        return match.group(1)


@asynccontextmanager
async def serve(env: Mapping[str, str]) -> AsyncIterator[Served]:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "serve",
        "--port",
        "0",
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    banner: list[str] = []
    try:
        while not banner or "Ctrl-C" not in banner[-1]:
            line = await asyncio.wait_for(process.stdout.readline(), LINE_WAIT)
            if not line:
                stderr = await process.stderr.read() if process.stderr else b""
                pytest.fail(f"serve exited early: {banner} {stderr.decode()[-2000:]}")
            banner.append(line.decode().rstrip())
        yield Served(process, banner)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def stop(served: Served, signum: int) -> tuple[int, str]:
    served.process.send_signal(signum)
    stdout, _ = await asyncio.wait_for(served.process.communicate(), LINE_WAIT)
    assert served.process.returncode is not None
    return served.process.returncode, stdout.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serve_without_upstream_runs_the_demo_and_stops_cleanly(signum: int) -> None:
    async with serve(clean_env()) as served:
        banner = "\n".join(served.banner)
        assert f"demo API key: {DEMO_API_KEY}" in banner
        assert "embedded emulator with demo data at http://127.0.0.1:" in banner  # loopback only
        async with httpx.AsyncClient(timeout=30) as http:
            # The demo key is not lent to other sites, nor to a name that rebinds to this machine.
            foreign = {"Origin": "http://localhost:9999"}
            refused = await http.post(served.graphiql_url, json={"query": DEMO_QUERY}, headers=foreign)
            assert refused.status_code == 401
            rebound = await http.post(
                served.graphiql_url, json={"query": DEMO_QUERY}, headers={"Host": "rebound.example"}
            )
            assert rebound.status_code == 421
            # No Authorization header: the demo key is the fallback, so GraphiQL works at once.
            body = (await http.post(served.graphiql_url, json={"query": DEMO_QUERY})).json()
            assert "errors" not in body, body
            titles = {c["title"] for c in body["data"]["eventCategories"]["nodes"]}
            assert "Landing Page" in titles
            page = await http.get(served.graphiql_url, headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert "<html" in page.text
        returncode, rest = await stop(served, signum)
    assert returncode == 0
    assert "shutting down" in rest


async def test_serve_with_an_upstream_url_uses_it_and_prints_no_key(emulator: RunningEmulator) -> None:
    async with serve(clean_env(EVENTS_API_URL=emulator.api_url)) as served:
        banner = "\n".join(served.banner)
        assert f"upstream: {emulator.api_url}" in banner
        assert DEMO_API_KEY not in banner
        async with httpx.AsyncClient(timeout=30) as http:
            anonymous = await http.post(
                served.graphiql_url, json={"query": "{ eventCategories { totalCount } }"}
            )
            assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            keyed = await http.post(
                served.graphiql_url,
                json={"query": "{ eventCategories { totalCount } }"},
                headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
            )
            assert keyed.json()["data"]["eventCategories"]["totalCount"] > 0
        returncode, _ = await stop(served, signal.SIGTERM)
    assert returncode == 0


async def test_export_schema_prints_the_committed_schema() -> None:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT), "export-schema", env=clean_env(), stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), LINE_WAIT)
    assert process.returncode == 0
    assert stdout.decode() == (ROOT / "schema.graphql").read_text(encoding="utf-8")


async def test_export_schema_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT), "export-schema", "-o", str(target), env=clean_env()
    )
    await asyncio.wait_for(process.wait(), LINE_WAIT)
    assert process.returncode == 0
    assert target.read_text(encoding="utf-8") == (ROOT / "schema.graphql").read_text(encoding="utf-8")


async def test_serve_on_a_taken_port_says_so_and_exits_1() -> None:
    port, returncode, stderr = await serve_on_a_taken_port(wait=LINE_WAIT)
    assert returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr
