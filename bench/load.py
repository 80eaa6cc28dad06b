"""Sustained load: throughput, latency and the gateway's memory under many concurrent clients.

Starts the emulator (demo data, optional added latency) and the gateway as separate processes, as in a
deployment, then runs N concurrent clients for a fixed time. Each client loops over a realistic mix:

- ``nested``: the demo query GraphiQL opens with (categories → events → properties);
- ``lookup``: one event by id, with its category;
- ``filtered``: the events of one category (``events(filter: {categoryId})``).

A request counts as an error when it fails on the wire, answers a status other than 200, or carries
``errors``. Prints requests/s, p50/p90/p99 latency per kind and overall, errors by reason, CPU seconds
of each server, and the gateway's resident memory (``VmRSS`` from ``/proc/PID/status``) before the load,
over its course, at its end and at its peak. Asserts nothing.

    .venv/bin/python bench/load.py                            # 100 clients x 60 s
    .venv/bin/python bench/load.py --clients 20 --seconds 10 --latency-ms 0
    .venv/bin/python bench/load.py --mix nested=1             # only the nested query
    .venv/bin/python bench/load.py --repeat 3                 # does memory settle across runs?
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from events_gateway.emulator import DEMO_API_KEY
from events_gateway.server import DEMO_QUERY

from _stack import Server, emulator_server, gateway_server

LOOKUP = "query Lookup($id: ID!) { event(id: $id) { id title description category { id title } } }"
FILTERED = """query Filtered($category: ID!) {
  events(filter: {categoryId: $category}, first: 20) { totalCount nodes { id title verified tags } }
}"""
DEFAULT_MIX = "nested=2,lookup=5,filtered=3"
#: Seconds between samples of the gateway's memory.
SAMPLE_EVERY = 1.0


@dataclass
class Tally:
    """What the clients saw: latencies per kind, errors per reason."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    sent: int = 0


def rss_kib(pid: int) -> int:
    """Resident set size of ``pid`` in KiB, from ``/proc/PID/status``."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far, from ``/proc/PID/stat``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_mix(text: str) -> dict[str, int]:
    mix = {name: int(weight) for name, weight in (part.split("=") for part in text.split(","))}
    unknown = set(mix) - {"nested", "lookup", "filtered"}
    if unknown or not any(mix.values()):
        raise SystemExit(f"--mix takes weights of nested, lookup and filtered, e.g. {DEFAULT_MIX}")
    return mix


async def discover(http: aiohttp.ClientSession, url: str) -> tuple[list[str], list[str]]:
    """Category and event ids to look up, read once through the gateway before the load."""
    async with http.post(url, json={"query": DEMO_QUERY}) as response:
        body = await response.json()
    if response.status != 200 or body.get("errors"):
        raise SystemExit(f"the gateway cannot answer the demo query: {response.status} {body}")
    categories = body["data"]["eventCategories"]["nodes"]
    events = [event["id"] for category in categories for event in category["events"]["nodes"]]
    return [category["id"] for category in categories], events


def request_for(kind: str, rng: random.Random, categories: list[str], events: list[str]) -> dict[str, Any]:
    if kind == "nested":
        return {"query": DEMO_QUERY}
    if kind == "lookup":
        return {"query": LOOKUP, "variables": {"id": rng.choice(events)}}
    return {"query": FILTERED, "variables": {"category": rng.choice(categories)}}


#: Hears one exchange of a client loop: (kind, seconds, status, body), or (kind, seconds, None, exception).
Record = Callable[[str, float, int | None, Any], None]


async def drive(
    http: aiohttp.ClientSession,
    url: str,
    mix: dict[str, int],
    ids: tuple[list[str], list[str]],
    stop_at: float,
    seed: int,
    record: Record,
) -> None:
    """One client: requests drawn from ``mix`` one after another until ``stop_at``, each exchange handed to
    ``record`` (this script and ``soak.py`` keep different tallies of the same loop)."""
    rng = random.Random(seed)
    kinds, weights = list(mix), list(mix.values())
    while time.perf_counter() < stop_at:
        kind = rng.choices(kinds, weights)[0]
        payload = request_for(kind, rng, *ids)
        started = time.perf_counter()
        try:
            async with http.post(url, json=payload) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            record(kind, time.perf_counter() - started, None, exc)
            continue
        record(kind, time.perf_counter() - started, status, body)


async def client(
    http: aiohttp.ClientSession,
    url: str,
    mix: dict[str, int],
    ids: tuple[list[str], list[str]],
    stop_at: float,
    tally: Tally,
    seed: int,
) -> None:
    def record(kind: str, seconds: float, status: int | None, body: Any) -> None:
        tally.sent += 1
        if status is None:
            tally.errors[f"{kind}: {type(body).__name__}"] += 1
            return
        tally.latencies[kind].append(seconds)
        if status != 200:
            tally.errors[f"{kind}: HTTP {status}"] += 1
        elif body.get("errors"):
            codes = sorted({str(error.get("extensions", {}).get("code")) for error in body["errors"]})
            tally.errors[f"{kind}: {', '.join(codes)}"] += 1

    await drive(http, url, mix, ids, stop_at, seed, record)


async def sample_memory(
    pid: int,
    samples: list[tuple[float, int]],
    started: float,
    stop: asyncio.Event,
    *,
    every: float = SAMPLE_EVERY,
) -> None:
    """Append ``(seconds since started, RSS in KiB)`` every ``every`` seconds until ``stop`` is set."""
    while not stop.is_set():
        samples.append((time.perf_counter() - started, rss_kib(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


@dataclass
class Run:
    """One measured run: what the clients saw, and what it cost the servers."""

    tally: Tally
    elapsed: float
    rss_before: int
    rss_after: int
    samples: list[tuple[float, int]]
    cpu: tuple[float, float, float]  # gateway, emulator, this load client


async def measure(
    http: aiohttp.ClientSession,
    args: argparse.Namespace,
    mix: dict[str, int],
    ids: tuple[list[str], list[str]],
    gateway: Server,
    emulator: Server,
) -> Run:
    rss_before = rss_kib(gateway.pid)
    cpu_before = cpu_seconds(gateway.pid), cpu_seconds(emulator.pid), cpu_seconds(os.getpid())
    tally = Tally()
    samples: list[tuple[float, int]] = []
    stop = asyncio.Event()
    started = time.perf_counter()
    sampler = asyncio.ensure_future(sample_memory(gateway.pid, samples, started, stop))
    stop_at = started + args.seconds
    await asyncio.gather(
        *(client(http, gateway.url, mix, ids, stop_at, tally, seed) for seed in range(args.clients))
    )
    elapsed = time.perf_counter() - started
    stop.set()
    await sampler
    cpu_after = cpu_seconds(gateway.pid), cpu_seconds(emulator.pid), cpu_seconds(os.getpid())
    cpu = tuple(after - before for after, before in zip(cpu_after, cpu_before, strict=True))
    return Run(tally, elapsed, rss_before, rss_kib(gateway.pid), samples, cpu)  # type: ignore[arg-type]


def report(run: Run, mix: dict[str, int]) -> None:
    tally, elapsed = run.tally, run.elapsed
    everything = [latency for values in tally.latencies.values() for latency in values]
    answered = len(everything)
    print(f"  requests sent: {tally.sent}")
    print(f"  throughput: {answered / elapsed:.1f} requests/s ({answered} answered in {elapsed:.1f} s)")
    print(f"  {'kind':<10}{'requests':>10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for kind in [*mix, "all"]:
        values = everything if kind == "all" else tally.latencies.get(kind, [])
        if not values:
            continue
        print(
            f"  {kind:<10}{len(values):>10}{percentile(values, 0.5):>10.1f}{percentile(values, 0.9):>10.1f}"
            f"{percentile(values, 0.99):>10.1f}{max(values) * 1000:>10.1f}"
        )
    print(
        f"  errors: {sum(tally.errors.values())}"
        + "".join(f"\n    {count:>6}  {reason}" for reason, count in tally.errors.most_common())
    )
    gateway_cpu, emulator_cpu, client_cpu = run.cpu
    cores = os.cpu_count() or 1
    print(
        f"  CPU seconds: gateway {gateway_cpu:.1f}, emulator {emulator_cpu:.1f}, load client {client_cpu:.1f}"
        f" (of {elapsed * cores:.0f} on {cores} cores, shared with anything else running)"
    )
    peak = max([run.rss_before, run.rss_after, *(rss for _, rss in run.samples)])
    print(f"  gateway RSS: before {mib(run.rss_before)}, after {mib(run.rss_after)}, peak {mib(peak)}")
    samples = run.samples
    if samples:
        step = max(1, len(samples) // 10)
        print(
            "  gateway RSS over the run: " + ", ".join(f"{t:.0f}s {mib(rss)}" for t, rss in samples[::step])
        )
        half = len(samples) // 2
        if half:
            first = statistics.median(rss for _, rss in samples[:half])
            second = statistics.median(rss for _, rss in samples[half:])
            print(f"  median RSS, first half {mib(int(first))}, second half {mib(int(second))}")


async def run(args: argparse.Namespace, gateway: Server, emulator: Server) -> None:
    mix = parse_mix(args.mix)
    connector = aiohttp.TCPConnector(limit=args.clients)
    timeout = aiohttp.ClientTimeout(total=args.request_timeout)
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as http:
        ids = await discover(http, gateway.url)
        rss_start = rss_kib(gateway.pid)
        warm = Tally()
        warm_until = time.perf_counter() + args.warmup
        await asyncio.gather(*(client(http, gateway.url, mix, ids, warm_until, warm, -n) for n in range(4)))
        print(
            f"\n{args.clients} clients x {args.seconds:g} s, mix {args.mix},"
            f" upstream latency {args.latency_ms:g} ms; gateway RSS at start {mib(rss_start)}"
        )
        for number in range(1, args.repeat + 1):
            if args.repeat > 1:
                print(f"run {number} of {args.repeat}")
            report(await measure(http, args, mix, ids, gateway, emulator), mix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients (default 100)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the measured run (default 60)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of light load before measuring")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"request weights (default {DEFAULT_MIX})")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="added upstream latency (default 10)")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="client timeout per request")
    parser.add_argument("--repeat", type=int, default=1, help="measured runs on the same gateway (default 1)")
    parser.add_argument("--log-level", default="WARNING", help="the gateway's log level (default WARNING)")
    args = parser.parse_args()
    with emulator_server("--latency-ms", str(args.latency_ms), "--write-limit", "0") as emulator:
        api_url = f"{emulator.url}/api/v1"
        with gateway_server(api_url, DEMO_API_KEY, log_level=args.log_level) as gateway:
            asyncio.run(run(args, gateway, emulator))


if __name__ == "__main__":
    main()
