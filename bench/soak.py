"""Soak under faults: how whole the answers stay, and whether memory stays flat, while the upstream fails.

Starts the emulator (the 5 x 20 x 10 grid by default, so one level of properties spans many pages) and
the gateway as separate processes, reads the ids to ask for while the upstream is healthy, then turns
the emulator's faults on at run time (``PATCH /_emulator/config``) and runs N clients for T seconds over
the mix of ``bench/load.py`` (the nested tree, lookups by id, a filtered list). The default fault mix is
a 500, a 503, a 429 with ``Retry-After``, a 200 with a truncated body and a 3-second stall.

Each answer is classed as

- ``whole``: HTTP 200 without ``errors``;
- ``partial``: HTTP 200 with ``data`` and ``errors``;
- ``errors-only``: no data (``data`` null or absent), another status, or a failure on the wire.

Prints those shares, the error entries per answer (max and mean, overall and per kind), their codes,
p50/p99/max latency, answers slower than the gateway's request deadline, upstream calls by status (from
the emulator's counters), the gateway's retries by reason and the seconds its circuit was not closed
(from its ``/metrics``), and the gateway's resident memory (``VmRSS``) sampled every few seconds, with
its growth after the first minute. Asserts nothing.

    .venv/bin/python bench/soak.py --clients 20 --seconds 60 --fault-rate 0.1
    .venv/bin/python bench/soak.py --seconds 600 --sample-every 10          # the 10-minute soak
    .venv/bin/python bench/soak.py --faults 500,malformed --fault-rate 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from events_gateway.emulator import DEMO_API_KEY, FAULT_KINDS, EmulatorAdmin
from events_gateway.settings import DEFAULT_REQUEST_DEADLINE
from load import (
    DEFAULT_MIX,
    cpu_seconds,
    discover,
    drive,
    mib,
    parse_mix,
    percentile,
    rss_kib,
    sample_memory,
)

from _stack import Server, emulator_server, gateway_server

DEFAULT_FAULTS = "500,503,429,malformed,stall"
#: Seconds a ``stall`` fault holds its answer; the issue's figure.
DEFAULT_STALL_SECONDS = 3.0
#: Counted apart in the RSS figures: allocators and caches settle during the first minute.
SETTLE_SECONDS = 60.0
CLASSES = ("whole", "partial", "errors-only")


@dataclass
class Answers:
    """What the clients saw: a class per answer, error entries per answer, codes and latencies."""

    classes: collections.Counter[str] = field(default_factory=collections.Counter)
    by_kind: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    entries: dict[str, list[int]] = field(default_factory=lambda: collections.defaultdict(list))
    codes: collections.Counter[str] = field(default_factory=collections.Counter)
    latencies: list[float] = field(default_factory=list)

    def add(self, kind: str, verdict: str, errors: list[dict[str, Any]], latency: float) -> None:
        self.classes[verdict] += 1
        self.by_kind[kind][verdict] += 1
        self.entries[kind].append(len(errors))
        self.latencies.append(latency)
        for error in errors:
            self.codes[str((error.get("extensions") or {}).get("code"))] += 1


def classify(status: int, body: Any) -> tuple[str, list[dict[str, Any]]]:
    """``whole``, ``partial`` or ``errors-only``, and the answer's error entries."""
    if not isinstance(body, dict):
        return "errors-only", [{"extensions": {"code": f"HTTP {status}"}}]
    errors = body.get("errors") or []
    if status != 200 or body.get("data") is None:
        return "errors-only", errors or [{"extensions": {"code": f"HTTP {status}"}}]
    return ("partial" if errors else "whole"), errors


async def client(
    http: aiohttp.ClientSession,
    url: str,
    mix: dict[str, int],
    ids: tuple[list[str], list[str]],
    stop_at: float,
    answers: Answers,
    seed: int,
) -> None:
    def record(kind: str, seconds: float, status: int | None, body: Any) -> None:
        if status is None:
            answers.add(kind, "errors-only", [{"extensions": {"code": type(body).__name__}}], seconds)
            return
        verdict, errors = classify(status, body)
        answers.add(kind, verdict, errors, seconds)

    await drive(http, url, mix, ids, stop_at, seed, record)


def share(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f} %" if whole else "-"


def entries_line(values: list[int]) -> str:
    return f"max {max(values)}, mean {statistics.fmean(values):.2f}" if values else "-"


def report_answers(answers: Answers, elapsed: float, deadline: float) -> None:
    total = sum(answers.classes.values())
    print(f"  answers: {total} in {elapsed:.1f} s ({total / elapsed:.1f}/s)")
    print(
        "  "
        + ", ".join(
            f"{name} {answers.classes[name]} ({share(answers.classes[name], total)})" for name in CLASSES
        )
    )
    print(f"  {'kind':<10}{'answers':>9}{'whole':>9}{'partial':>9}{'err-only':>9}   error entries per answer")
    for kind, counts in sorted(answers.by_kind.items()):
        print(
            f"  {kind:<10}{sum(counts.values()):>9}{counts['whole']:>9}{counts['partial']:>9}"
            f"{counts['errors-only']:>9}   {entries_line(answers.entries[kind])}"
        )
    everything = [count for values in answers.entries.values() for count in values]
    print(f"  error entries per answer: {entries_line(everything)}; total {sum(everything)}")
    if answers.codes:
        print("  error codes: " + ", ".join(f"{code} {count}" for code, count in answers.codes.most_common()))
    latencies = answers.latencies
    if latencies:
        late = sum(1 for latency in latencies if latency > deadline)
        print(
            f"  latency ms: p50 {percentile(latencies, 0.5):.0f}, p99 {percentile(latencies, 0.99):.0f},"
            f" max {max(latencies) * 1000:.0f}; {late} answers slower than the {deadline:g} s deadline"
        )


def report_memory(samples: list[tuple[float, int]], rss_start: int) -> None:
    if not samples:
        return
    peak = max(rss for _, rss in samples)
    print(f"  gateway RSS: start {mib(rss_start)}, end {mib(samples[-1][1])}, peak {mib(peak)}")
    print("  gateway RSS over the run (s: MiB):")
    row = 10
    for start in range(0, len(samples), row):
        print("    " + "  ".join(f"{t:>4.0f}: {rss / 1024:5.1f}" for t, rss in samples[start : start + row]))
    settled = [rss for t, rss in samples if t >= SETTLE_SECONDS]
    if len(settled) > 1:
        print(
            f"  growth after the first {SETTLE_SECONDS:.0f} s: {(settled[-1] - settled[0]) / 1024:+.1f} MiB"
            f" (max {(max(settled) - settled[0]) / 1024:+.1f} MiB)"
        )


#: ``events_gateway_upstream_circuit_state{origin=…,state="open"} 1.0``: a circuit not closed right now.
_NOT_CLOSED = re.compile(
    r'^events_gateway_upstream_circuit_state\{[^}]*state="(open|half_open)"[^}]*\} 1\.0$', re.M
)
_UNANSWERED = re.compile(
    r'^events_gateway_upstream_calls_total\{[^}]*status="none"[^}]*\} ([0-9.e+]+)$', re.M
)
_RETRIES = re.compile(
    r'^events_gateway_upstream_retries_total\{[^}]*reason="([^"]*)"[^}]*\} ([0-9.e+]+)$', re.M
)


async def watch_circuit(
    http: aiohttp.ClientSession, url: str, seen: list[tuple[float, str]], started: float, stop: asyncio.Event
) -> None:
    """Record ``(seconds, state)`` each second the gateway's circuit is not closed (from ``/metrics``)."""
    while not stop.is_set():
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with http.get(url) as response:
                text = await response.text()
            seen += [(time.perf_counter() - started, state) for state in _NOT_CLOSED.findall(text)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def report_gateway(http: aiohttp.ClientSession, url: str, circuit: list[tuple[float, str]]) -> None:
    async with http.get(url) as response:
        text = await response.text()
    retries = {reason: int(float(count)) for reason, count in _RETRIES.findall(text)}
    unanswered = sum(int(float(count)) for count in _UNANSWERED.findall(text))
    print(f"  gateway upstream calls that got no answer (refused, timed out, circuit open): {unanswered}")
    print(
        "  gateway retries by reason: "
        + (", ".join(f"{r} {n}" for r, n in sorted(retries.items())) or "none")
    )
    if circuit:
        moments = ", ".join(f"{t:.0f}s {state}" for t, state in circuit[:20])
        print(f"  circuit not closed in {len(circuit)} one-second samples: {moments}")
    else:
        print("  circuit closed throughout")


async def report_upstream(admin: EmulatorAdmin) -> None:
    stats = await admin.stats()
    statuses = collections.Counter(call["status"] for call in stats["calls"])
    kept = "" if len(stats["calls"]) == stats["total"] else f" (statuses of the last {len(stats['calls'])})"
    print(
        f"  upstream calls: {stats['total']}{kept}; by status: "
        + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    )


async def run(args: argparse.Namespace, gateway: Server, emulator: Server) -> None:
    mix = parse_mix(args.mix)
    connector = aiohttp.TCPConnector(limit=args.clients + 1)  # one more for the /metrics watcher
    timeout = aiohttp.ClientTimeout(total=args.request_timeout)
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as http,
        EmulatorAdmin(emulator.url) as admin,
    ):
        ids = await discover(http, gateway.url)  # while the upstream is still healthy
        await admin.configure(
            fault_rate=args.fault_rate,
            faults=args.faults,
            stall_seconds=args.stall_seconds,
            fault_seed=args.fault_seed,
        )
        await admin.reset()
        print(
            f"\n{args.clients} clients x {args.seconds:g} s, mix {args.mix},"
            f" upstream latency {args.latency_ms:g} ms, cache TTL {args.cache_ttl:g} s,"
            f" faults {','.join(args.faults)} at {args.fault_rate:g} (stall {args.stall_seconds:g} s)"
        )
        rss_start = rss_kib(gateway.pid)
        cpu_before = cpu_seconds(gateway.pid), cpu_seconds(emulator.pid)
        answers = Answers()
        samples: list[tuple[float, int]] = []
        stop = asyncio.Event()
        started = time.perf_counter()
        sampler = asyncio.ensure_future(
            sample_memory(gateway.pid, samples, started, stop, every=args.sample_every)
        )
        metrics_url = gateway.url.rsplit("/", 1)[0] + "/metrics"
        circuit: list[tuple[float, str]] = []
        watcher = asyncio.ensure_future(watch_circuit(http, metrics_url, circuit, started, stop))
        stop_at = started + args.seconds
        await asyncio.gather(
            *(client(http, gateway.url, mix, ids, stop_at, answers, seed) for seed in range(args.clients))
        )
        elapsed = time.perf_counter() - started
        stop.set()
        await sampler
        await watcher
        samples.append((elapsed, rss_kib(gateway.pid)))
        gateway_cpu, emulator_cpu = (
            after - before
            for after, before in zip(
                (cpu_seconds(gateway.pid), cpu_seconds(emulator.pid)), cpu_before, strict=True
            )
        )
        report_answers(answers, elapsed, args.deadline)
        await report_upstream(admin)
        await report_gateway(http, metrics_url, circuit)
        print(f"  CPU seconds: gateway {gateway_cpu:.1f}, emulator {emulator_cpu:.1f}")
        report_memory(samples, rss_start)


def fault_kinds(text: str) -> list[str]:
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"--faults takes kinds among {','.join(FAULT_KINDS)}")
    return kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run (default 60)")
    parser.add_argument(
        "--fault-rate", type=float, default=0.1, help="share of upstream calls failed (default 0.1)"
    )
    parser.add_argument(
        "--faults",
        type=fault_kinds,
        default=fault_kinds(DEFAULT_FAULTS),
        help=f"fault mix (default {DEFAULT_FAULTS})",
    )
    parser.add_argument(
        "--stall-seconds", type=float, default=DEFAULT_STALL_SECONDS, help="length of a stall"
    )
    parser.add_argument("--fault-seed", type=int, default=1, help="seeds the emulator's fault draw")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"request weights (default {DEFAULT_MIX})")
    parser.add_argument("--scale", default="5,20,10", help="categories,events,properties (default 5,20,10)")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="added upstream latency (default 10)")
    parser.add_argument(
        "--sample-every", type=float, default=5.0, help="seconds between RSS samples (default 5)"
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_REQUEST_DEADLINE,
        help="the gateway's request deadline, seconds",
    )
    parser.add_argument(
        "--cache-ttl",
        type=float,
        default=0.0,
        help="the gateway's cache TTL (default 0, off: every answer meets the upstream and its faults)",
    )
    parser.add_argument("--request-timeout", type=float, default=60.0, help="client timeout per request")
    parser.add_argument("--log-level", default="WARNING", help="the gateway's log level (default WARNING)")
    args = parser.parse_args()
    emulator_options = (
        "--seed",
        "scale",
        "--scale",
        args.scale,
        "--latency-ms",
        str(args.latency_ms),
        "--write-limit",
        "0",
    )
    with (
        emulator_server(*emulator_options) as emulator,
        gateway_server(
            f"{emulator.url}/api/v1",
            DEMO_API_KEY,
            log_level=args.log_level,
            request_deadline=str(args.deadline),
            cache_ttl=str(args.cache_ttl),
        ) as gateway,
    ):
        asyncio.run(run(args, gateway, emulator))


if __name__ == "__main__":
    main()
