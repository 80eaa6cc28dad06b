"""How many upstream calls, sequential rounds and milliseconds the nested query costs.

Starts a seeded emulator with added latency and the gateway on loopback, then for each size runs the
whole-hierarchy query through the gateway and, beside it, a hand-written aiohttp client that walks the
REST routes itself (one call per parent, each level concurrent). Prints a table; asserts nothing. The
gateway's cache is off here, so every run is a cold tree; ``bench/cache.py`` measures it warm.

    .venv/bin/python bench/nested.py                 # sizes 2x5x5, 5x20x10, 10x20x20 at 20 ms
    .venv/bin/python bench/nested.py --latency-ms 50 --runs 9 --sizes 5x20x10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import aiohttp

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin

from _stack import emulator_server, gateway_server

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


async def measure(
    label: str, run: Any, admin: EmulatorAdmin, runs: int
) -> tuple[str, int, int, str, float, int]:
    await run()  # warm up connections and caches
    last_plan_rounds.clear()
    timings: list[float] = []
    calls = rounds = objects = 0
    for _ in range(runs):
        await admin.reset()
        started = time.perf_counter()
        objects = await run()
        timings.append((time.perf_counter() - started) * 1000)
        stats = await admin.stats()
        calls, rounds = stats["total"], stats["rounds"]
    seen = str(max(last_plan_rounds)) if last_plan_rounds else "-"
    return label, calls, rounds, seen, statistics.median(timings), objects


async def bench_size(size: tuple[int, int, int], latency_ms: float, runs: int, page_size: int) -> None:
    c, e, p = size
    options = ["--seed", "scale", "--scale", f"{c},{e},{p}", "--latency-ms", str(latency_ms)]
    options += ["--page-size", str(page_size), "--write-limit", "0"]
    with emulator_server(*options) as emulator:
        api_url = f"{emulator.url}/api/v1"
        rows = []
        async with EmulatorAdmin(emulator.url) as admin:
            for label, settings in (
                ("gateway (catalog)", {}),
                ("gateway (per-parent)", {"batching": "per-parent"}),
            ):
                # Cache off: every run is the cold tree (bench/cache.py measures the warm ones).
                with gateway_server(
                    api_url, DEMO_API_KEY, upstream_plan="on", cache_ttl="0", **settings
                ) as gateway:
                    async with aiohttp.ClientSession() as http:
                        rows.append(
                            await measure(label, lambda: gateway_query(http, gateway.url), admin, runs)
                        )
            rows.append(
                await measure(
                    "hand-written REST walk", lambda: hand_written_walk(api_url, DEMO_API_KEY), admin, runs
                )
            )
    naive = 1 + c + c * e
    print(
        f"\n{c} categories x {e} events x {p} properties, {latency_ms:g} ms upstream latency,"
        f" page size {page_size}"
    )
    print(f"  naive resolver bound: {naive} calls")
    print("  rounds: as the emulator saw them / as the gateway's call plan saw them")
    print(f"  {'client':<24}{'calls':>7}{'rounds':>10}{'median ms':>11}{'objects':>9}")
    for label, calls, rounds, seen, median, objects in rows:
        print(f"  {label:<24}{calls:>7}{f'{rounds} / {seen}':>10}{median:>11.1f}{objects:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2x5x5,5x20x10,10x20x20", help="comma-separated CxExP")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--page-size", type=int, default=50)
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    for size in sizes:
        asyncio.run(bench_size(size, args.latency_ms, args.runs, args.page_size))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
