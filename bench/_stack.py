"""Emulator and gateway as separate processes, as in a deployment, for the bench scripts.

Each runs in its own interpreter so that neither one's CPU time is charged to the other's latency.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
_URL = re.compile(r"https?://127\.0\.0\.1:\d+")


def _start(command: Sequence[str], env: dict[str, str], marker: str) -> tuple[subprocess.Popen[str], str]:
    """Start a server and return it with the first URL it prints on its line containing ``marker``."""
    env = dict(env, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if marker in line and (match := _URL.search(line)):
            # Keep draining its output, or a full pipe would stall the server mid-benchmark.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, match.group(0)
    process.kill()
    raise RuntimeError(f"{command[0]} exited before it was ready:\n{''.join(seen)}")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Server:
    """A running server process: the URL it serves and its process id (to read ``/proc/PID``)."""

    url: str
    pid: int


@contextlib.contextmanager
def emulator_server(*options: str) -> Iterator[Server]:
    """``events-gateway emulator --port 0 --admin OPTIONS``; its base URL (without ``/api/v1``) and pid."""
    command = [str(BIN / "events-gateway"), "emulator", "--port", "0", "--admin", *options]
    process, url = _start(command, dict(os.environ), "emulator at")
    try:
        yield Server(url, process.pid)
    finally:
        _stop(process)


@contextlib.contextmanager
def gateway_server(api_url: str, api_key: str, *, workers: int = 1, **settings: str) -> Iterator[Server]:
    """``events-gateway serve --port 0`` against ``api_url``; the GraphQL endpoint's URL and the pid.

    ``settings`` become ``EVENTS_GATEWAY_<NAME>`` variables, e.g. ``batching="per-parent"``. With
    ``workers`` above 1 it is ``serve --workers N``, and the pid is the supervising parent's (its workers
    are its children: see :func:`process_tree`).
    """
    env = dict(os.environ, EVENTS_API_URL=api_url, EVENTS_API_KEY=api_key)
    env.update({f"EVENTS_GATEWAY_{name.upper()}": value for name, value in settings.items()})
    command = [str(BIN / "events-gateway"), "serve", "--port", "0"]
    if workers != 1:
        command += ["--workers", str(workers)]
    process, url = _start(command, env, "GraphiQL at")
    try:
        yield Server(f"{url}/graphql", process.pid)
    finally:
        _stop(process)


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux ``/proc``), e.g. a ``serve --workers N`` and its workers."""
    found = [pid]
    for current in found:
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            found += [int(child) for child in task.read_text().split()]
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU seconds of these processes so far (Linux ``/proc``); gone ones count 0."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")
