"""``events-gateway emulator``: serve the emulator from a terminal until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .runner import run_emulator
from .settings import (
    DEFAULT_FAULTS,
    DEFAULT_HOST,
    DEFAULT_PAGE_SIZE,
    DEFAULT_PORT,
    DEFAULT_WRITE_LIMIT,
    DEMO_API_KEY,
    FAULT_KINDS,
    SEEDS,
    EmulatorSettings,
    EmulatorSettingsError,
)


def _scale(text: str) -> tuple[int, int, int]:
    parts = text.split(",")
    try:
        c, e, p = (int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError("--scale takes three integers, e.g. 5,20,10") from None
    return c, e, p


def _faults(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown fault kind(s) {', '.join(unknown)}; use {','.join(FAULT_KINDS)}"
        )
    return kinds


def add_emulator_command(subparsers: Any) -> None:
    """Register ``emulator`` on the top-level parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="serve a local Secoda Events API with demo data",
        description="Serve a local, stateful emulator of the Secoda Events REST API.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument(
        "--db", type=Path, default=None, help="SQLite file; state survives restarts (default: memory)"
    )
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    parser.add_argument("--seed", choices=SEEDS, default="demo", help="data for each empty workspace")
    parser.add_argument("--scale", type=_scale, default=None, help="C,E,P for --seed scale (default 5,20,10)")
    parser.add_argument(
        "--write-limit", type=int, default=DEFAULT_WRITE_LIMIT, help="writes a minute per key; 0 turns it off"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every /api/v1 request")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of /api/v1 requests that fail (0..1)"
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=DEFAULT_FAULTS,
        help=f"fault kinds, comma-separated, from {','.join(FAULT_KINDS)}",
    )
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument(
        "--admin", action="store_true", help="serve the test aids under /_emulator (loopback --host only)"
    )
    parser.set_defaults(run=run_command)


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    extra: dict[str, Any] = {} if args.scale is None else {"scale": args.scale}
    return EmulatorSettings(
        db_path=args.db,
        page_size=args.page_size,
        seed=args.seed,
        write_limit=args.write_limit or None,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        faults=args.faults,
        fault_seed=args.fault_seed,
        admin=args.admin,
        **extra,
    )


async def _serve(settings: EmulatorSettings, host: str, port: int) -> None:
    async with run_emulator(settings, host=host, port=port) as running:
        print(f"Secoda Events API emulator at {running.api_url}", flush=True)
        print(f"Demo API key: {DEMO_API_KEY}", flush=True)
        print(
            f"Try: curl -H 'Authorization: Bearer {DEMO_API_KEY}' {running.api_url}/event/category/",
            flush=True,
        )
        if settings.admin:
            print(f"Test aids at {running.url}/_emulator/stats", flush=True)
        await asyncio.Event().wait()


def run_command(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except EmulatorSettingsError as exc:
        print(f"events-gateway emulator: {exc}")
        return 2
    try:
        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_serve(settings, args.host, args.port))
    except EmulatorSettingsError as exc:
        print(f"events-gateway emulator: {exc}")
        return 2
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed: it spends less CPU per request than asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
