"""What the cache saves on the nested query: cold, warm, from the cached upstream answers alone, and after
an own write, beside the cache turned off and a hand-written REST walk.

Starts a seeded emulator with added latency and the gateway as separate processes on loopback (and a
``redis-server`` of its own with ``--redis``, when one is installed), then for each mode runs the
whole-hierarchy query ``--runs`` times and prints the median time, the upstream calls the emulator
served per run and the rounds the call plan saw. Asserts nothing.

- ``cache off``: ``EVENTS_GATEWAY_CACHE_TTL=0``, every run the cold tree;
- ``cold``: ``Cache-Control: no-cache``, every GET asked of the upstream (and its answer filed);
- ``warm``: the same query again within the TTL: its whole answer from the operation cache;
- ``upstream answers only``: another document over the same lists each run (a comment differs), so
  every upstream GET is answered from the cache and the query executes;
- ``after an own write``: an event renamed through the gateway before each run (not timed): what the
  write invalidated is fetched again, the rest comes from the cache.

The cached gateways run with a 60 s TTL, so that no answer turns stale in the middle of a mode's runs.

    .venv/bin/python bench/cache.py                      # 5x20x10 at 20 ms
    .venv/bin/python bench/cache.py --latency-ms 100 --sizes 5x20x10,60x5x4 --redis
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin
from nested import NESTED_QUERY, hand_written_walk

from _stack import emulator_server, gateway_server

RENAME = "mutation($e: ID!, $t: String!) { updateEvent(id: $e, input: {title: $t}) { id } }"
#: Seconds answers stay fresh here: longer than a mode's runs, so no answer turns stale mid-measurement.
TTL = "60"


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway ``redis-server`` on a free loopback port (its URL), or ``None`` when none is installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", ""]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                    break
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait()


class Gateway:
    """One gateway's ``/graphql`` and the last answer's call plan."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.rounds = 0

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        sent = {"X-Upstream-Plan": "1", **headers}
        async with self.http.post(
            self.url, json={"query": query, "variables": variables}, headers=sent
        ) as answer:
            body: dict[str, Any] = await answer.json()
        if body.get("errors"):
            raise RuntimeError(f"the gateway answered with errors: {body['errors'][:2]}")
        self.rounds = body.get("extensions", {}).get("upstream", {}).get("rounds", 0)
        return body

    async def tree(self, query: str = NESTED_QUERY, **headers: str) -> int:
        categories = (await self.post(query, **headers))["data"]["eventCategories"]["nodes"]
        events = [event for category in categories for event in category["events"]["nodes"]]
        return len(categories) + len(events) + sum(len(event["properties"]["nodes"]) for event in events)


Row = tuple[str, float, float, int, int]


async def measure(
    label: str,
    run: Callable[[int], Awaitable[int]],
    admin: EmulatorAdmin,
    runs: int,
    rounds: Callable[[], int],
    before: Callable[[int], Awaitable[None]] | None = None,
) -> Row:
    """Median ms, median upstream calls, the last run's rounds and objects of ``runs`` runs."""
    timings: list[float] = []
    calls: list[int] = []
    objects = 0
    for index in range(runs):
        if before is not None:
            await before(index)
        await admin.reset()
        started = time.perf_counter()
        objects = await run(index)
        timings.append((time.perf_counter() - started) * 1000)
        calls.append((await admin.stats())["total"])
    return label, statistics.median(timings), statistics.median(calls), rounds(), objects


async def bench_gateway(url: str, admin: EmulatorAdmin, runs: int, suffix: str) -> list[Row]:
    async with aiohttp.ClientSession() as http:
        gateway = Gateway(http, url)
        await gateway.tree()  # connections open, page size learned
        rows = [
            await measure(
                f"cold (no-cache){suffix}",
                lambda _: gateway.tree(**{"Cache-Control": "no-cache"}),
                admin,
                runs,
                lambda: gateway.rounds,
            )
        ]
        await gateway.tree(**{"Cache-Control": "no-cache"})
        rows.append(
            await measure(f"warm: whole answer{suffix}", lambda _: gateway.tree(), admin, runs, lambda: 0)
        )
        rows.append(
            await measure(
                f"upstream answers only{suffix}",
                lambda index: gateway.tree(f"{NESTED_QUERY}\n# variant {index} {suffix}"),
                admin,
                runs,
                lambda: gateway.rounds,
            )
        )
        tree = (await gateway.post("{ events(first: 1) { nodes { id } } }"))["data"]["events"]["nodes"]

        async def rename(index: int) -> None:
            await gateway.post(RENAME, {"e": tree[0]["id"], "t": f"Renamed {index}"})

        rows.append(
            await measure(
                f"after an own write{suffix}",
                lambda _: gateway.tree(),
                admin,
                runs,
                lambda: gateway.rounds,
                rename,
            )
        )
    return rows


async def bench_size(size: tuple[int, int, int], latency_ms: float, runs: int, with_redis: bool) -> None:
    c, e, p = size
    options = [
        "--seed",
        "scale",
        "--scale",
        f"{c},{e},{p}",
        "--latency-ms",
        str(latency_ms),
        "--write-limit",
        "0",
    ]
    rows: list[Row] = []
    with emulator_server(*options) as emulator, redis_server() as redis_url:
        api_url = f"{emulator.url}/api/v1"
        async with EmulatorAdmin(emulator.url) as admin:
            with gateway_server(api_url, DEMO_API_KEY, upstream_plan="on", cache_ttl="0") as gateway:
                async with aiohttp.ClientSession() as http:
                    off = Gateway(http, gateway.url)
                    await off.tree()
                    rows.append(
                        await measure(
                            "cache off (TTL 0)", lambda _: off.tree(), admin, runs, lambda: off.rounds
                        )
                    )
            with gateway_server(api_url, DEMO_API_KEY, upstream_plan="on", cache_ttl=TTL) as gateway:
                rows += await bench_gateway(gateway.url, admin, runs, "")
            if with_redis and redis_url is not None:
                cached = {"cache_ttl": TTL, "redis_url": redis_url}
                with gateway_server(api_url, DEMO_API_KEY, upstream_plan="on", **cached) as gateway:
                    rows += await bench_gateway(gateway.url, admin, runs, ", redis")
            await hand_written_walk(api_url, DEMO_API_KEY)
            rows.append(
                await measure(
                    "hand-written REST walk",
                    lambda _: hand_written_walk(api_url, DEMO_API_KEY),
                    admin,
                    runs,
                    lambda: 3,
                )
            )
    print(f"\n{c} categories x {e} events x {p} properties, {latency_ms:g} ms upstream latency, {runs} runs")
    if with_redis and redis_url is None:
        print("  (no redis-server installed: the Redis rows are left out)")
    print(f"  {'mode':<36}{'median ms':>11}{'calls':>7}{'rounds':>8}{'objects':>9}")
    for label, median, calls, rounds, objects in rows:
        print(f"  {label:<36}{median:>11.1f}{calls:>7g}{rounds:>8}{objects:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5x20x10", help="comma-separated CxExP")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--redis", action="store_true", help="also through a redis-server of its own")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        c, e, p = (int(n) for n in size.split("x"))
        asyncio.run(bench_size((c, e, p), args.latency_ms, args.runs, args.redis))


if __name__ == "__main__":
    main()
