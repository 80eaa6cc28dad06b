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
  write invalidated is fetched again, the rest comes from the cache;
- ``after the TTL``: a gateway with a 1 s TTL (and a 60 s stale window), each run after waiting past the
  TTL (not timed): the stale answer is served at once while one background refresh runs (its upstream
  calls count when they land before the run's count is read); the ``stale`` column counts the runs
  whose answer said ``extensions.cache.stale``.

The other cached gateways run with a 60 s TTL, so that no answer turns stale in the middle of a mode's
runs. Every mode runs in memory and, with a ``redis-server`` installed, through Redis (``--no-redis``
leaves it out), at each of ``--latency-ms`` (20 and 100 by default).

Then a load mix per latency: ``--clients`` clients for ``--seconds`` seconds, each sending the nested
query, lookups by id and filtered lists in turn, with ``--write-share`` (1 %) of requests renaming an
event through the gateway; it prints requests per second, p50 and p99 in ms, and two hit rates from the
gateway's ``/metrics``: whole answers served by the operation cache, and upstream GETs the cache
answered (of those plus the calls sent upstream).

    .venv/bin/python bench/cache.py                                  # 5x20x10 at 20 and 100 ms
    .venv/bin/python bench/cache.py --latency-ms 100 --sizes 5x20x10,60x5x4 --no-redis
    .venv/bin/python bench/cache.py --clients 16 --seconds 20        # a longer load mix
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
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
#: The short TTL of the ``after the TTL`` mode, and how long past it each run waits (for the previous
#: run's refresh to land and its answer to turn stale again).
SHORT_TTL = 1.0
PAST_TTL = 0.6
LOOKUP = "query($id: ID!) { event(id: $id) { id title category { id title } } }"
PROPERTY = "query($id: ID!) { eventProperty(id: $id) { id title type event { id title } } }"
FILTERED = "query($t: String!) { events(filter: {titleContains: $t}, first: 50) { nodes { id title } } }"


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
        self.stale = False

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
        extensions = body.get("extensions", {})
        self.rounds = extensions.get("upstream", {}).get("rounds", 0)
        self.stale = bool(extensions.get("cache", {}).get("stale"))
        return body

    async def tree(self, query: str = NESTED_QUERY, **headers: str) -> int:
        categories = (await self.post(query, **headers))["data"]["eventCategories"]["nodes"]
        events = [event for category in categories for event in category["events"]["nodes"]]
        return len(categories) + len(events) + sum(len(event["properties"]["nodes"]) for event in events)


#: label, median ms, median upstream calls, rounds, objects, runs answered stale
Row = tuple[str, float, float, int, int, int]


async def measure(
    label: str,
    run: Callable[[int], Awaitable[int]],
    admin: EmulatorAdmin,
    runs: int,
    rounds: Callable[[], int],
    before: Callable[[int], Awaitable[None]] | None = None,
    stale: Callable[[], bool] = lambda: False,
) -> Row:
    """Median ms, median upstream calls, the last run's rounds and objects of ``runs`` runs, and how
    many of them were answered stale."""
    timings: list[float] = []
    calls: list[int] = []
    objects = stale_runs = 0
    for index in range(runs):
        if before is not None:
            await before(index)
        await admin.reset()
        started = time.perf_counter()
        objects = await run(index)
        timings.append((time.perf_counter() - started) * 1000)
        stale_runs += stale()
        calls.append((await admin.stats())["total"])
    return label, statistics.median(timings), statistics.median(calls), rounds(), objects, stale_runs


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


async def bench_stale(url: str, admin: EmulatorAdmin, runs: int, suffix: str) -> Row:
    """The tree from a gateway with a short TTL, each run after waiting past it."""
    async with aiohttp.ClientSession() as http:
        gateway = Gateway(http, url)
        await gateway.tree()

        async def past_ttl(_: int) -> None:
            await asyncio.sleep(SHORT_TTL + PAST_TTL)

        return await measure(
            f"after the TTL (stale){suffix}",
            lambda _: gateway.tree(),
            admin,
            runs,
            lambda: gateway.rounds,
            past_ttl,
            lambda: gateway.stale,
        )


_SAMPLE = re.compile(r"^(\w+)\{([^}]*)\} (\S+)$", re.MULTILINE)


async def metric_sums(http: aiohttp.ClientSession, graphql_url: str) -> dict[tuple[str, str], float]:
    """The gateway's counters from ``/metrics``, summed by (name, status label)."""
    async with http.get(graphql_url.removesuffix("/graphql") + "/metrics") as answer:
        text = await answer.text()
    sums: dict[tuple[str, str], float] = {}
    for name, labels, value in _SAMPLE.findall(text):
        status = re.search(r'status="([^"]*)"', labels)
        key = (name, status.group(1) if status else "")
        sums[key] = sums.get(key, 0.0) + float(value)
    return sums


async def load_mix(url: str, clients: int, seconds: float, write_share: float) -> str:
    """``clients`` clients for ``seconds``: the nested query, lookups and filtered lists, with
    ``write_share`` of the requests renaming an event; one line of figures."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as http:
        gateway = Gateway(http, url)
        categories = (await gateway.post(NESTED_QUERY))["data"]["eventCategories"]["nodes"]
        events = [event for category in categories for event in category["events"]["nodes"]]
        properties = [p["id"] for event in events for p in event["properties"]["nodes"]]
        words = sorted({event["title"].rsplit(" ", 1)[0] for event in events}) or ["Event"]
        before = await metric_sums(http, url)
        timings: list[float] = []
        writes = 0
        deadline = time.perf_counter() + seconds

        async def client(seed: int) -> None:
            nonlocal writes
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                pick = rng.random()
                if pick < write_share:
                    event = rng.choice(events)["id"]
                    request: tuple[str, dict[str, Any] | None] = (
                        RENAME,
                        {"e": event, "t": f"W{rng.random()}"},
                    )
                    writes += 1
                elif pick < write_share + (1 - write_share) / 3:
                    request = (NESTED_QUERY, None)
                elif pick < write_share + 2 * (1 - write_share) / 3:
                    if rng.random() < 0.5:
                        request = (LOOKUP, {"id": rng.choice(events)["id"]})
                    else:
                        request = (PROPERTY, {"id": rng.choice(properties)})
                else:
                    request = (FILTERED, {"t": rng.choice(words)})
                started = time.perf_counter()
                await Gateway(http, url).post(*request)
                timings.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client(seed) for seed in range(clients)))
        elapsed = time.perf_counter() - started
        after = await metric_sums(http, url)

    def delta(name: str, *statuses: str) -> float:
        keys = {key for key in after if key[0] == name and (not statuses or key[1] in statuses)}
        return sum(after[key] - before.get(key, 0.0) for key in keys)

    served = delta("events_gateway_cache_operations_total", "hit", "stale", "stale_if_error")
    looked_up = delta("events_gateway_cache_operations_total")
    answered = delta("events_gateway_cache_answers_total")
    sent = delta("events_gateway_upstream_calls_total")
    quantiles = statistics.quantiles(timings, n=100)
    return (
        f"{len(timings):>7}{len(timings) / elapsed:>8.0f}{writes:>7}"
        f"{quantiles[49]:>8.1f}{quantiles[98]:>8.1f}"
        f"{100 * served / max(looked_up, 1):>9.1f}%{100 * answered / max(answered + sent, 1):>11.1f}%"
    )


async def bench_size(size: tuple[int, int, int], latency_ms: float, args: argparse.Namespace) -> None:
    c, e, p = size
    runs = args.runs
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
    loads: list[tuple[str, str]] = []
    with emulator_server(*options) as emulator, redis_server() as redis_url:
        api_url = f"{emulator.url}/api/v1"
        tiers: list[tuple[str, dict[str, str]]] = [("", {})]
        if args.redis and redis_url is not None:
            tiers.append((", redis", {"redis_url": redis_url}))
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
                if args.seconds > 0:
                    line = await load_mix(gateway.url, args.clients, args.seconds, args.write_share)
                    loads.append(("cache off (TTL 0)", line))
            for suffix, tier in tiers:
                with gateway_server(
                    api_url, DEMO_API_KEY, upstream_plan="on", cache_ttl=TTL, **tier
                ) as gateway:
                    rows += await bench_gateway(gateway.url, admin, runs, suffix)
                    if args.seconds > 0:
                        line = await load_mix(gateway.url, args.clients, args.seconds, args.write_share)
                        loads.append((f"cache on (TTL {TTL} s){suffix}", line))
                if tier:  # the Redis of the previous gateway: start the short-TTL one from nothing
                    await asyncio.to_thread(_flush, tier["redis_url"])
                short = {"cache_ttl": f"{SHORT_TTL:g}", "cache_stale": "60", **tier}
                with gateway_server(api_url, DEMO_API_KEY, upstream_plan="on", **short) as gateway:
                    rows.append(await bench_stale(gateway.url, admin, args.stale_runs, suffix))
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
    if args.redis and redis_url is None:
        print("  (no redis-server installed: the Redis rows are left out)")
    print(f"  {'mode':<36}{'median ms':>11}{'calls':>7}{'rounds':>8}{'objects':>9}{'stale':>7}")
    for label, median, calls, rounds, objects, stale in rows:
        print(f"  {label:<36}{median:>11.1f}{calls:>7g}{rounds:>8}{objects:>9}{stale:>7}")
    if loads:
        print(
            f"\n  load mix: {args.clients} clients, {args.seconds:g} s, {100 * args.write_share:g} % writes;"
            " hit rates: whole answers / upstream GETs"
        )
        print(
            f"  {'gateway':<36}{'reqs':>7}{'req/s':>8}{'writes':>7}{'p50':>8}{'p99':>8}"
            f"{'answers':>10}{'GETs':>12}"
        )
        for label, line in loads:
            print(f"  {label:<36}{line}")


def _flush(url: str) -> None:
    """Empty a Redis (``FLUSHALL``) with ``redis-cli``, when it is installed."""
    cli = shutil.which("redis-cli")
    if cli is not None:
        port = url.rsplit(":", 1)[1].split("/")[0]
        subprocess.run([cli, "-p", port, "flushall"], check=False, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5x20x10", help="comma-separated CxExP")
    parser.add_argument("--latency-ms", default="20,100", help="comma-separated upstream latencies")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--stale-runs", type=int, default=5, help="runs of the after-the-TTL mode")
    parser.add_argument(
        "--no-redis", dest="redis", action="store_false", help="leave out the rows through Redis"
    )
    parser.add_argument("--clients", type=int, default=8, help="load mix: concurrent clients")
    parser.add_argument("--seconds", type=float, default=5.0, help="load mix: duration (0: none)")
    parser.add_argument("--write-share", type=float, default=0.01, help="load mix: share of writes")
    args = parser.parse_args()
    for latency in args.latency_ms.split(","):
        for size in args.sizes.split(","):
            c, e, p = (int(n) for n in size.split("x"))
            asyncio.run(bench_size((c, e, p), float(latency), args))


if __name__ == "__main__":
    main()
