"""How much the HTTP stack costs on the gateway's typical fan-out: httpx default vs our client vs aiohttp.

Walks 1 + C + C·E list calls (the categories; the events of each category; the properties of each event;
each level concurrent) against an upstream that answers after a fixed latency, and prints the median
wall time of several walks for each stack. Run::

    .venv/bin/python bench/transport.py [--runs 9] [--latency-ms 20] [--in-process]

The upstream is the embedded emulator seeded with 5 categories × 20 events × 10 properties, run in a
child process so that its own CPU time does not land on the loop being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection

import aiohttp
import httpx
import orjson

from events_gateway.emulator import DEMO_API_KEY, EmulatorSettings, run_emulator
from events_gateway.upstream import UpstreamClient, UpstreamSettings

CATEGORIES, EVENTS, PROPERTIES = 5, 20, 10

Walk = Callable[[], Awaitable[int]]


# --- the upstream -------------------------------------------------------------------------------------


def _emulator_settings(latency: float) -> EmulatorSettings:
    scale = (CATEGORIES, EVENTS, PROPERTIES)
    return EmulatorSettings(seed="scale", scale=scale, latency_ms=latency * 1000, page_size=100)


def _serve_in_child(latency: float, conn: Connection) -> None:
    """The child process: serve the emulator until the parent closes the pipe."""

    async def serve() -> None:
        async with run_emulator(_emulator_settings(latency)) as running:
            conn.send(running.api_url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv_bytes)

    with contextlib.suppress(EOFError):
        asyncio.run(serve())


@asynccontextmanager
async def upstream(latency: float, *, in_process: bool) -> AsyncIterator[str]:
    """The emulator's API root: in a child process (like a remote upstream, its CPU not on our loop)
    or, with ``in_process``, on this event loop."""
    if in_process:
        async with run_emulator(_emulator_settings(latency)) as running:
            yield running.api_url
        return
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve_in_child, args=(latency, child))
    process.start()
    try:
        yield await asyncio.get_running_loop().run_in_executor(None, parent.recv)
    finally:
        parent.close()
        process.join(10)
        if process.is_alive():
            process.terminate()


# --- the three walks ----------------------------------------------------------------------------------


def _ids(body: bytes) -> list[str]:
    return [item["id"] for item in orjson.loads(body)["results"]]


def _raw_walk(get: Callable[..., Awaitable[list[str]]]) -> Walk:
    """Categories, then every category's events, then every event's properties, through ``get``."""

    async def walk() -> int:
        categories = await get("/event/category")
        events = await asyncio.gather(*(get("/event/events", parent_id=c) for c in categories))
        flat = [e for group in events for e in group]
        await asyncio.gather(*(get("/event/event_properties", parent_id=e) for e in flat))
        return 1 + len(categories) + len(flat)

    return walk


def httpx_walk(client: httpx.AsyncClient, base: str, key: str) -> Walk:
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    async def get(path: str, **params: str) -> list[str]:
        response = await client.get(f"{base}{path}/", params=params, headers=headers)
        response.raise_for_status()
        return _ids(response.content)

    return _raw_walk(get)


def client_walk(client: UpstreamClient, key: str) -> Walk:
    async def walk() -> int:
        session = client.session(key)
        categories = (await session.list_event_categories()).results
        pages = await asyncio.gather(*(session.list_events(parent_id=c["id"]) for c in categories))
        events = [e for page in pages for e in page.results]
        await asyncio.gather(*(session.list_event_properties(parent_id=e["id"]) for e in events))
        return 1 + len(categories) + len(events)

    return walk


def aiohttp_walk(session: aiohttp.ClientSession, base: str, key: str) -> Walk:
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    async def get(path: str, **params: str) -> list[str]:
        async with session.get(f"{base}{path}/", params=params, headers=headers) as response:
            response.raise_for_status()
            return _ids(await response.read())

    return _raw_walk(get)


async def measure(walks: dict[str, Walk], runs: int) -> None:
    """Warm each stack up (its pool opens its connections), then time the stacks in turn, run by run,
    so that a noisy neighbour slows all of them alike. Wall time includes the emulator's own work; the
    CPU column is this process alone, i.e. what each HTTP stack costs the gateway."""
    calls = {name: await walk() for name, walk in walks.items()}
    wall: dict[str, list[float]] = {name: [] for name in walks}
    cpu: dict[str, list[float]] = {name: [] for name in walks}
    for _ in range(runs):
        for name, walk in walks.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            await walk()
            wall[name].append((time.perf_counter() - started) * 1000)
            cpu[name].append((time.process_time() - started_cpu) * 1000)
    print(f"{'stack':<36} {'calls':>5} {'median wall ms':>15} {'min':>7} {'median CPU ms':>14}")
    for name in walks:
        print(
            f"{name:<36} {calls[name]:>5} {statistics.median(wall[name]):>15.1f} {min(wall[name]):>7.1f}"
            f" {statistics.median(cpu[name]):>14.1f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--in-process", action="store_true", help="run the emulator on this event loop")
    args = parser.parse_args()
    where = "this process" if args.in_process else "a child process"
    print(f"emulator: {CATEGORIES}x{EVENTS}x{PROPERTIES}, {args.latency_ms:g} ms latency, in {where}")
    async with (
        upstream(args.latency_ms / 1000, in_process=args.in_process) as base,
        httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as plain,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as raw,
    ):
        ours = UpstreamClient(UpstreamSettings(base))
        try:
            walks = {
                "(a) httpx, default transport": httpx_walk(plain, base, DEMO_API_KEY),
                "(b) UpstreamClient (httpx+aiohttp)": client_walk(ours, DEMO_API_KEY),
                "(c) raw aiohttp": aiohttp_walk(raw, base, DEMO_API_KEY),
            }
            await measure(walks, args.runs)
        finally:
            await ours.aclose()


if __name__ == "__main__":
    asyncio.run(main())
