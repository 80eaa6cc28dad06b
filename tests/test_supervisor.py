"""``events-gateway serve --workers N``: several processes on one port, under one supervising parent."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from events_gateway.cli import WORKER_HEADER

from .conftest import SCRIPT, clean_env, serve_on_a_taken_port

#: Generous bound on any one wait; only there so a broken build fails instead of hanging.
WAIT = 90.0
QUERY = {"query": "{ eventCategories { totalCount } }"}
#: Clients asking at once during a reload, each on a fresh connection per request.
ASKERS = 4


@dataclass
class Parent:
    process: asyncio.subprocess.Process
    url: str
    lines: list[str] = field(default_factory=list)

    async def line_containing(self, text: str) -> str:
        """The next line of standard output that contains ``text``."""
        assert self.process.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), WAIT)
            if not raw:
                pytest.fail(f"serve --workers ended its output early: {self.lines}")
            line = raw.decode().rstrip()
            self.lines.append(line)
            if text in line:
                return line


@asynccontextmanager
async def serve_workers(*options: str) -> AsyncIterator[Parent]:
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "serve",
        "--port",
        "0",
        *options,
        env={**clean_env(), "EVENTS_GATEWAY_LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.PIPE,
    )
    parent = Parent(process, url="")
    try:
        first = await parent.line_containing("GraphiQL at")
        match = re.search(r"(http://\S+/graphql)", first)
        assert match, first
        parent.url = match.group(1)
        await parent.line_containing("Ctrl-C")
        yield parent
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def answered_by(url: str) -> str:
    """Ask once, on a fresh connection (the kernel picks a worker per connection); the worker's pid."""
    async with httpx.AsyncClient(timeout=WAIT) as http:
        response = await http.post(url, json=QUERY)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["eventCategories"]["totalCount"] > 0
    return response.headers[WORKER_HEADER]


async def pids_answering(url: str, wanted: int, attempts: int = 200) -> set[str]:
    """The pids seen until ``wanted`` distinct ones have answered (or ``attempts`` requests)."""
    seen: set[str] = set()
    for _ in range(attempts):
        seen.add(await answered_by(url))
        if len(seen) >= wanted:
            break
    return seen


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (Linux ``/proc``); a zombie, exited but not yet reaped by whoever adopted
    it, does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_two_workers_share_the_port_reload_on_sighup_and_stop_on_sigterm() -> None:
    async with serve_workers("--workers", "2") as parent:
        banner = "\n".join(parent.lines)
        assert "2 workers" in banner
        assert "embedded emulator" in banner  # started once, by the parent
        assert "each worker keeps its own" in banner  # no Redis: said, since writes show late elsewhere
        first = await pids_answering(parent.url, 2)
        assert len(first) == 2
        assert str(parent.process.pid) not in first

        # Reload while clients keep asking, until the old workers have exited: every request is
        # answered (none is reset by a stopping worker), then only new workers answer.
        async def keep_asking() -> int:
            answered = 0
            while any(alive(int(pid)) for pid in first):
                await answered_by(parent.url)
                answered += 1
            return answered

        askers = [asyncio.create_task(keep_asking()) for _ in range(ASKERS)]
        parent.process.send_signal(signal.SIGHUP)
        await parent.line_containing("reloaded")
        answered = await asyncio.wait_for(asyncio.gather(*askers), WAIT)
        assert all(count > 0 for count in answered), answered
        second = await pids_answering(parent.url, 2)
        assert len(second) == 2
        assert second.isdisjoint(first)

        parent.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(parent.process.wait(), WAIT) == 0
        rest = await parent.process.stdout.read() if parent.process.stdout else b""
        assert "shutting down" in rest.decode()
        assert not any(alive(int(pid)) for pid in first | second)


async def test_a_worker_that_dies_is_replaced() -> None:
    async with serve_workers("--workers", "2") as parent:
        before = await pids_answering(parent.url, 2)
        victim = int(sorted(before)[0])
        os.kill(victim, signal.SIGKILL)
        await parent.line_containing(f"worker {victim} exited")
        newcomers: set[str] = set()
        for _ in range(300):  # until the replacement has joined the port and answered
            pid = await answered_by(parent.url)
            assert pid != str(victim)
            if pid not in before:
                newcomers.add(pid)
                break
            await asyncio.sleep(0.1)
        assert newcomers, "no replacement worker answered"
        parent.process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(parent.process.wait(), WAIT) == 0


async def test_workers_stop_when_the_parent_is_killed() -> None:
    """A parent that cannot forward a signal (SIGKILL, the OOM killer) leaves no worker on the port."""
    async with serve_workers("--workers", "2") as parent:
        workers = [int(pid) for pid in await pids_answering(parent.url, 2)]
        parent.process.kill()
        await parent.process.wait()
        for _ in range(int(WAIT / 0.1)):  # until the workers have noticed and stopped
            if not any(alive(pid) for pid in workers):
                break
            await asyncio.sleep(0.1)
        assert not any(alive(pid) for pid in workers)
        with pytest.raises(httpx.ConnectError):  # the port is free: nothing listens any more
            await answered_by(parent.url)


async def test_workers_on_a_taken_port_say_so_and_exit_1() -> None:
    port, returncode, text = await serve_on_a_taken_port("--workers", "2", wait=WAIT)
    assert returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in text
    assert "Traceback" not in text
