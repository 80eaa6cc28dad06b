"""Live queries at scale: many subscribers over a few distinct queries, one poll per distinct query.

Starts the emulator (demo data) and the gateway as separate processes, opens ``--subscribers``
subscriptions over ``graphql-transport-ws``, spread evenly over ``--queries`` distinct live queries (the
nested tree with a different ``first`` on its event level each) and over WebSockets of
``--per-socket`` subscriptions each, all with the demo key. Then prints:

- upstream calls per interval while nothing changes, counted by the emulator, beside what the same
  subscribers would cost polling for themselves (one query each per interval);
- push latency after a write through the gateway: from sending ``updateEvent`` on an event every live
  query shows, to each subscriber receiving the changed tree (p50, p99, max over all of them, over
  ``--writes`` writes);
- the gateway's resident memory (``VmRSS``) before the subscriptions and with all of them open.

Asserts nothing.

    .venv/bin/python bench/live.py                                   # 1,000 subscribers, 50 queries
    .venv/bin/python bench/live.py --subscribers 200 --queries 10 --interval 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin
from load import mib, percentile, rss_kib

from _stack import emulator_server, gateway_server

TREE = """subscription Tree($events: Int!) {
  eventCategories(first: 5) {
    nodes { id title events(first: $events) { totalCount nodes { id title } } }
  }
}"""
RENAME = "mutation($id: ID!, $t: String!) { updateEvent(id: $id, input: {title: $t}) { id } }"
AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}


@dataclass
class Subscriber:
    """One subscription's latest tree, and when it arrived."""

    variables: dict[str, int]
    latest: dict[str, Any] | None = None
    arrived: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


async def socket(session: aiohttp.ClientSession, url: str, subscribers: list[Subscriber]) -> None:
    """One WebSocket carrying ``subscribers``; records each pushed result until cancelled."""
    async with session.ws_connect(url, protocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": AUTH})
        assert (await ws.receive_json())["type"] == "connection_ack"
        for index, subscriber in enumerate(subscribers):
            payload = {"query": TREE, "variables": subscriber.variables}
            await ws.send_json({"id": str(index), "type": "subscribe", "payload": payload})
        async for message in ws:
            body = json.loads(message.data)
            if body["type"] == "ping":
                await ws.send_json({"type": "pong"})
            elif body["type"] == "next":
                subscriber = subscribers[int(body["id"])]
                subscriber.latest = body["payload"]
                subscriber.arrived = time.perf_counter()
                subscriber.changed.set()
            elif body["type"] in ("error", "complete"):
                raise RuntimeError(f"subscription ended: {body}")


#: Seconds any wait for the subscribers may take before the run gives up.
PATIENCE = 120.0


async def figure(http: aiohttp.ClientSession, graphql_url: str, name: str) -> float:
    """The sum of a metric's samples on the gateway's ``/metrics``."""
    response = await http.get(graphql_url.removesuffix("/graphql") + "/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in (await response.text()).splitlines()
        if line.startswith(name + " ") or line.startswith(name + "{")
    )


async def until_all(subscribers: list[Subscriber], done: Any) -> None:
    """Until ``done(subscriber)`` holds for every subscriber, each waited on as its results arrive."""
    async with asyncio.timeout(PATIENCE):
        for subscriber in subscribers:
            while not done(subscriber):
                subscriber.changed.clear()
                await subscriber.changed.wait()


async def run(args: argparse.Namespace) -> None:
    with (
        emulator_server("--write-limit", "0") as emulator,
        gateway_server(
            f"{emulator.url}/api/v1",
            DEMO_API_KEY,
            live_interval=str(args.interval),
            live_max_per_key=str(args.subscribers),
            live_max_per_connection=str(args.per_socket),
            live_keepalive="30",
            upstream_plan="on",
        ) as gateway,
    ):
        url = gateway.url.replace("http://", "ws://", 1)
        rss_before = rss_kib(gateway.pid)
        subscribers = [Subscriber({"events": 1 + i % args.queries}) for i in range(args.subscribers)]
        sockets = [subscribers[i : i + args.per_socket] for i in range(0, len(subscribers), args.per_socket)]
        async with aiohttp.ClientSession() as session, EmulatorAdmin(emulator.url) as admin:
            started = time.perf_counter()
            tasks = [asyncio.create_task(socket(session, url, group)) for group in sockets]
            await until_all(subscribers, lambda s: s.latest is not None)
            print(
                f"{args.subscribers} subscribers on {len(sockets)} sockets over {args.queries} live queries: "
                f"all had their first tree after {time.perf_counter() - started:.2f} s"
            )
            rss_open = rss_kib(gateway.pid)

            # Upstream cost while nothing changes: whole intervals, counted by the emulator.
            async with aiohttp.ClientSession() as http:
                polls_before = await figure(http, gateway.url, "events_gateway_live_polls_total")
                await admin.reset()
                started = time.perf_counter()
                await asyncio.sleep(args.interval * args.intervals)
                calls = (await admin.stats())["total"]
                elapsed = time.perf_counter() - started
                runs = await figure(http, gateway.url, "events_gateway_live_polls_total") - polls_before
                response = await http.post(
                    gateway.url,
                    json={"query": TREE.replace("subscription", "query", 1), "variables": {"events": 1}},
                    # read through the cache: what one client polling for itself would cost each time
                    headers={**AUTH, "X-Upstream-Plan": "1", "Cache-Control": "no-cache"},
                )
                tree = await response.json()
            per_query = tree["extensions"]["upstream"]["totalCalls"]
            per_interval = calls / (elapsed / args.interval)
            print(
                f"upstream calls while nothing changes: {calls} in {elapsed:.1f} s, {runs:.0f} polls "
                f"({per_interval:.1f} calls per {args.interval:g} s interval; one run of a query costs "
                f"{per_query}, so {args.subscribers} clients polling for themselves would cost "
                f"{args.subscribers * per_query} per interval)"
            )

            # Push latency after a write through the gateway.
            event_id = tree["data"]["eventCategories"]["nodes"][0]["events"]["nodes"][0]["id"]
            latencies: list[float] = []
            async with aiohttp.ClientSession() as http:
                for write in range(args.writes):
                    title = f"Renamed {write}"
                    sent = time.perf_counter()
                    answer = await http.post(
                        gateway.url,
                        json={"query": RENAME, "variables": {"id": event_id, "t": title}},
                        headers=AUTH,
                    )
                    await answer.read()
                    await until_all(subscribers, lambda s, t=title: t in json.dumps(s.latest))
                    latencies += [subscriber.arrived - sent for subscriber in subscribers]
                handed = await figure(http, gateway.url, "events_gateway_live_push_latency_seconds_sum")
                reruns = await figure(http, gateway.url, "events_gateway_live_push_latency_seconds_count")
            print(
                f"push latency after a write ({args.writes} writes x {args.subscribers} subscribers, "
                f"the write's own round trip included): p50 {percentile(latencies, 0.5):.1f} ms, "
                f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies) * 1000:.1f} ms; inside the "
                f"gateway, from the write to a re-run's result in its subscribers' mailboxes: mean "
                f"{handed / max(reruns, 1) * 1000:.1f} ms over {reruns:.0f} re-runs"
            )
            print(
                f"gateway memory: {mib(rss_before)} before, {mib(rss_open)} with {args.subscribers} "
                f"subscriptions open ({(rss_open - rss_before) / args.subscribers:.1f} KiB each)"
            )
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=50, help="distinct live queries (at most 50)")
    parser.add_argument("--per-socket", type=int, default=100, help="subscriptions per WebSocket")
    parser.add_argument("--interval", type=float, default=2.0, help="EVENTS_GATEWAY_LIVE_INTERVAL")
    parser.add_argument("--intervals", type=int, default=5, help="intervals to count upstream calls over")
    parser.add_argument("--writes", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
