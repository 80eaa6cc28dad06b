"""Per-request overhead: requests a second and p50/p99 latency of a small query, by worker count.

Starts the emulator (demo data, no added latency) and the gateway as separate processes, as in a
deployment, then runs C concurrent clients that each send ``eventCategory(id:)`` (one upstream call)
back to back for T seconds, after a short warm-up; once per worker count (``serve --workers N``). Prints
requests/s, p50 and p99 latency, errors, and the CPU seconds each side used. Asserts nothing.

    .venv/bin/python bench/overhead.py                         # 32 clients x 10 s, 1 and 2 workers
    .venv/bin/python bench/overhead.py --workers 1,2,4 --clients 64 --seconds 20

The load comes from this one Python process; on a small machine it shares the cores with the servers,
so its own CPU is printed beside theirs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import dataclass, field

import aiohttp
import orjson

from events_gateway.emulator import DEMO_API_KEY

from _stack import cpu_seconds, emulator_server, gateway_server, process_tree

QUERY = "query Category($id: ID!) { eventCategory(id: $id) { id title description } }"
WARM_UP_SECONDS = 1.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def _client(http: aiohttp.ClientSession, url: str, body: bytes, until: float, tally: Tally) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/graphql-response+json"}
    while (started := time.perf_counter()) < until:
        try:
            async with http.post(url, data=body, headers=headers) as response:
                payload = await response.read()
                ok = response.status == 200 and "errors" not in orjson.loads(payload)
        except (aiohttp.ClientError, orjson.JSONDecodeError):
            ok = False
        if ok:
            tally.latencies.append(time.perf_counter() - started)
        else:
            tally.errors += 1


async def _load(url: str, body: bytes, clients: int, seconds: float) -> Tally:
    """``clients`` loops for ``seconds``; a warm-up of the same shape before it is not counted."""
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as http:
        warm = Tally()
        until = time.perf_counter() + WARM_UP_SECONDS
        await asyncio.gather(*(_client(http, url, body, until, warm) for _ in range(clients)))
        tally = Tally()
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_client(http, url, body, until, tally) for _ in range(clients)))
    return tally


async def _category_id(url: str) -> str:
    async with aiohttp.ClientSession() as http:
        query = {"query": "{ eventCategories(first: 1) { nodes { id } } }"}
        async with http.post(url, json=query) as response:
            body = await response.json()
    return str(body["data"]["eventCategories"]["nodes"][0]["id"])


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default: 1,2)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    counts = [int(count) for count in args.workers.split(",")]

    rows = []
    with emulator_server("--write-limit", "0") as emulator:
        api_url = f"{emulator.url}/api/v1"
        for workers in counts:
            # Cache off: every request makes its one upstream call (a repeated query would be answered
            # from the cache without any).
            with gateway_server(
                api_url, DEMO_API_KEY, workers=workers, log_level="WARNING", cache_ttl="0"
            ) as gateway:
                body = orjson.dumps(
                    {"query": QUERY, "variables": {"id": asyncio.run(_category_id(gateway.url))}}
                )
                gateway_pids = process_tree(gateway.pid)
                before = (cpu_seconds(gateway_pids), cpu_seconds([emulator.pid]), os.times())
                tally = asyncio.run(_load(gateway.url, body, args.clients, args.seconds))
                after = (cpu_seconds(gateway_pids), cpu_seconds([emulator.pid]), os.times())
            own = (after[2].user + after[2].system) - (before[2].user + before[2].system)
            rows.append((workers, tally, after[0] - before[0], after[1] - before[1], own))

    print(
        f"\n{QUERY}\n{args.clients} clients x {args.seconds:g} s (after a {WARM_UP_SECONDS:g} s warm-up), "
        f"upstream at zero latency, {os.cpu_count()} CPUs"
    )
    print(
        f"  {'workers':>7}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'gateway CPU s':>15}{'emulator CPU s':>16}{'client CPU s':>14}"
    )
    for workers, tally, gateway_cpu, emulator_cpu, client_cpu in rows:
        done = len(tally.latencies)
        p50, p99 = (_percentile(tally.latencies, share) * 1000 for share in (0.50, 0.99))
        print(
            f"  {workers:>7}{done:>10}{done / args.seconds:>9.0f}{p50:>9.1f}{p99:>9.1f}"
            f"{tally.errors:>8}{gateway_cpu:>15.1f}{emulator_cpu:>16.1f}{client_cpu:>14.1f}"
        )


if __name__ == "__main__":
    main()
