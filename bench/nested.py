"""How many upstream calls, sequential rounds and milliseconds the nested query costs.

Starts a seeded emulator with added latency and the gateway on loopback, then for each size runs the
whole-hierarchy query through the gateway and, beside it, a hand-written aiohttp client that walks the
REST routes itself (one call per parent, each level concurrent). Prints a table; asserts nothing. The
gateway's cache is off here, so every run is a cold tree; ``bench/cache.py`` measures it warm.

Two columns per client: *cold*, the first request of a freshly started gateway process (nothing learned
yet: no page size, no list counts, no open connections; the median of ``--cold-runs`` processes), and
*again*, the same request repeated on a process that has answered it before (the median of ``--runs``).
The hand-written client remembers nothing, so both are alike. Beside each wall time, the gateway
process's CPU per request (user + system, from ``/proc/PID/stat``, which counts in clock ticks of
10 ms: use ``--runs 30`` or more for a steady figure; ``--latency-ms 0`` shows the gateway's own cost).

    .venv/bin/python bench/nested.py                 # sizes 2x5x5, 5x20x10, 10x20x20 at 20 ms
    .venv/bin/python bench/nested.py --latency-ms 50 --runs 9 --sizes 5x20x10
    .venv/bin/python bench/nested.py --sizes 5x20x10@20,60x5x4@100   # a latency per size
    .venv/bin/python bench/nested.py --sizes 5x20x10 --latency-ms 0 --runs 40   # CPU per tree
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin

from _stack import cpu_seconds, emulator_server, gateway_server

NESTED_QUERY = """
query Hierarchy {
  eventCategories {
    nodes { id title events { nodes { id title properties { nodes { id title type } } } } }
  }
}
"""


async def _rest_pages(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every result of a paginated REST list, following ``links.next``."""
    results: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        async with http.get(next_url, headers=headers) as response:
            response.raise_for_status()
            body = await response.json()
        results.extend(body["results"])
        next_url = (body.get("links") or {}).get("next")
    return results


async def hand_written_walk(api_url: str, key: str) -> int:
    """The client a frontend team would write without the gateway: returns the number of objects."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    async with aiohttp.ClientSession() as http:
        categories = await _rest_pages(http, f"{api_url}/event/category/", headers)
        event_lists = await asyncio.gather(
            *(_rest_pages(http, f"{api_url}/event/events/?parent_id={c['id']}", headers) for c in categories)
        )
        events = [event for batch in event_lists for event in batch]
        property_lists = await asyncio.gather(
            *(
                _rest_pages(http, f"{api_url}/event/event_properties/?parent_id={e['id']}", headers)
                for e in events
            )
        )
    return len(categories) + len(events) + sum(len(batch) for batch in property_lists)


#: The gateway's own count of sequential rounds, from its call plan (``extensions.upstream``). The
#: emulator's count is taken server-side, where a burst of concurrent calls queued behind each other on
#: its one event loop can look sequential; the gateway sees when it sent each call.
last_plan_rounds: list[int] = []


async def gateway_query(http: aiohttp.ClientSession, url: str) -> int:
    async with http.post(url, json={"query": NESTED_QUERY}, headers={"X-Upstream-Plan": "1"}) as response:
        body = await response.json()
    last_plan_rounds.append(body.get("extensions", {}).get("upstream", {}).get("rounds", 0))
    if body.get("errors"):
        raise RuntimeError(f"the gateway answered with errors: {body['errors'][:2]}")
    categories = body["data"]["eventCategories"]["nodes"]
    events = [event for category in categories for event in category["events"]["nodes"]]
    return len(categories) + len(events) + sum(len(event["properties"]["nodes"]) for event in events)


@dataclass(frozen=True)
class Sample:
    """What one or more runs of a client cost: calls and rounds of the last run, median time."""

    calls: int
    rounds: int
    seen: str  # the rounds the gateway's own call plan counted, "-" for the hand-written client
    median_ms: float
    objects: int
    cpu_ms: float | None = None  # the gateway process's user+system CPU per request; None for the walk


async def measure(run: Any, admin: EmulatorAdmin, runs: int, pid: int | None = None) -> Sample:
    """``runs`` runs of ``run``, each after resetting the emulator's counters; with ``pid``, that
    process's CPU per run (from ``/proc``, read around each run alone, so the admin calls between runs
    are not charged to it)."""
    last_plan_rounds.clear()
    timings: list[float] = []
    cpu = 0.0
    calls = rounds = objects = 0
    for _ in range(runs):
        await admin.reset()
        cpu_before = cpu_seconds([pid]) if pid is not None else 0.0
        started = time.perf_counter()
        objects = await run()
        timings.append((time.perf_counter() - started) * 1000)
        if pid is not None:
            cpu += cpu_seconds([pid]) - cpu_before
        stats = await admin.stats()
        calls, rounds = stats["total"], stats["rounds"]
    seen = str(max(last_plan_rounds)) if last_plan_rounds else "-"
    cpu_ms = cpu * 1000 / runs if pid is not None else None
    return Sample(calls, rounds, seen, statistics.median(timings), objects, cpu_ms)


async def measure_gateway(
    api_url: str, admin: EmulatorAdmin, runs: int, cold_runs: int, settings: dict[str, Any]
) -> tuple[Sample, Sample]:
    """(cold, again): the first request of ``cold_runs`` fresh gateway processes (medians of their
    rounds and times; calls of the last), then ``runs`` repeats on the last process."""
    colds: list[Sample] = []
    again = None
    for attempt in range(cold_runs):
        # Cache off: every request reaches the upstream (bench/cache.py measures the warm ones).
        with gateway_server(api_url, DEMO_API_KEY, upstream_plan="on", cache_ttl="0", **settings) as gateway:
            async with aiohttp.ClientSession() as http:

                def run() -> Any:
                    return gateway_query(http, gateway.url)

                colds.append(await measure(run, admin, 1, gateway.pid))
                if attempt == cold_runs - 1:
                    again = await measure(run, admin, runs, gateway.pid)
    assert again is not None
    cold = Sample(
        colds[-1].calls,
        statistics.median_low(sample.rounds for sample in colds),
        str(statistics.median_low(int(sample.seen) for sample in colds)),
        statistics.median(sample.median_ms for sample in colds),
        colds[-1].objects,
        statistics.median(sample.cpu_ms or 0.0 for sample in colds),
    )
    return cold, again


async def bench_size(
    size: tuple[int, int, int], latency_ms: float, runs: int, cold_runs: int, page_size: int
) -> None:
    c, e, p = size
    options = ["--seed", "scale", "--scale", f"{c},{e},{p}", "--latency-ms", str(latency_ms)]
    options += ["--page-size", str(page_size), "--write-limit", "0"]
    with emulator_server(*options) as emulator:
        api_url = f"{emulator.url}/api/v1"
        rows: list[tuple[str, Sample, Sample]] = []
        async with EmulatorAdmin(emulator.url) as admin:
            for label, settings in (
                ("gateway (catalog)", {}),
                ("gateway (per-parent)", {"batching": "per-parent"}),
            ):
                rows.append((label, *await measure_gateway(api_url, admin, runs, cold_runs, settings)))

            def walk() -> Any:
                return hand_written_walk(api_url, DEMO_API_KEY)

            await walk()  # warm up its connections
            walked = await measure(walk, admin, runs)
            rows.append(("hand-written REST walk", walked, walked))
    naive = 1 + c + c * e
    print(
        f"\n{c} categories x {e} events x {p} properties, {latency_ms:g} ms upstream latency,"
        f" page size {page_size}"
    )
    print(f"  naive resolver bound: {naive} calls")
    print("  cold: first request of a new gateway process; again: the same request repeated")
    print("  rounds: as the emulator saw them / as the gateway's call plan saw them")
    print("  ms: wall time (median); cpu ms: the gateway process's CPU per request (mean)")
    print(f"  {'':<24}{'------------- cold -------------':>35}{'------------ again -------------':>35}")
    header = f"{'calls':>7}{'rounds':>9}{'ms':>9}{'cpu ms':>8}"
    print(f"  {'client':<24}   {header}   {header}{'objects':>9}")
    for label, cold, again in rows:
        cells = [
            f"{s.calls:>7}{f'{s.rounds} / {s.seen}':>9}{s.median_ms:>9.1f}"
            + (f"{s.cpu_ms:>8.1f}" if s.cpu_ms is not None else f"{'-':>8}")
            for s in (cold, again)
        ]
        print(f"  {label:<24}   {cells[0]}   {cells[1]}{again.objects:>9}")


def _size(text: str, latency_ms: float) -> tuple[tuple[int, int, int], float]:
    """``CxExP`` or ``CxExP@MS`` (a latency of its own)."""
    shape, _, latency = text.partition("@")
    c, e, p = (int(n) for n in shape.split("x"))
    return (c, e, p), float(latency) if latency else latency_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="2x5x5,5x20x10,10x20x20", help="comma-separated CxExP, each optionally @MS"
    )
    parser.add_argument("--latency-ms", type=float, default=20.0, help="for sizes without @MS")
    parser.add_argument("--runs", type=int, default=7, help="repeats on a gateway that has answered before")
    parser.add_argument("--cold-runs", type=int, default=3, help="new gateway processes, cold column")
    parser.add_argument("--page-size", type=int, default=50)
    args = parser.parse_args()
    for text in args.sizes.split(","):
        size, latency_ms = _size(text, args.latency_ms)
        asyncio.run(bench_size(size, latency_ms, args.runs, args.cold_runs, args.page_size))


if __name__ == "__main__":
    main()
