"""``events-gateway``: serve the gateway, run the emulator, export the schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from .observability import configure_logging, configure_tracing
from .settings import Settings, SettingsError

#: Seconds in-flight requests get to finish after Ctrl-C or SIGTERM before their connections are closed.
DEFAULT_SHUTDOWN_TIMEOUT = 10.0


class CannotListen(RuntimeError):
    """``serve`` could not bind its address; the message says which and why."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="events-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    from .emulator.cli import add_emulator_command

    add_emulator_command(commands)
    _add_serve_command(commands)
    _add_export_schema_command(commands)

    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


def _add_serve_command(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the GraphQL gateway (on the embedded emulator when EVENTS_API_URL is unset)",
        description=(
            "Serve the gateway. With EVENTS_API_URL unset, an embedded emulator with demo data is started "
            "in the same process and its demo key is used for requests that carry no Authorization header."
        ),
    )
    serve.add_argument("--host", help="address to listen on (default: EVENTS_GATEWAY_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on, 0 for any free one (default: 8000)")
    serve.add_argument(
        "--shutdown-timeout",
        type=float,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        help="seconds in-flight requests get to finish on shutdown (default: %(default)s)",
    )
    serve.set_defaults(run=_run_serve)


def _add_export_schema_command(commands: Any) -> None:
    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    export.set_defaults(run=_run_export_schema)


def _run_export_schema(args: argparse.Namespace) -> int:
    from strawberry.printer import print_schema

    from .graph import build_schema

    sdl = print_schema(build_schema(Settings.from_env())) + "\n"
    if args.output is None:
        sys.stdout.write(sdl)
    else:
        args.output.write_text(sdl, encoding="utf-8")
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"events-gateway: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        if settings.otel:
            configure_tracing()
    except SettingsError as exc:
        print(f"events-gateway: {exc}", file=sys.stderr)
        return 2
    host = settings.host if args.host is None else args.host
    port = settings.port if args.port is None else args.port
    try:
        _run(serve(settings, host=host, port=port, shutdown_timeout=args.shutdown_timeout))
    except CannotListen as exc:
        print(f"events-gateway: {exc}", file=sys.stderr)
        return 1
    except SettingsError as exc:
        print(f"events-gateway: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the server was up: nothing to drain
        return 130
    return 0


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (faster I/O), else on asyncio's default loop."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(coroutine)


async def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> None:
    """Serve until SIGINT or SIGTERM, then finish in-flight requests and close the upstream client.

    ``host`` and ``port`` default to the settings'; port 0 picks a free port, and the banner names it.
    """
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    from .server import create_app

    async with contextlib.AsyncExitStack() as stack:
        banner: list[str] = []
        if settings.upstream_url is None:
            # The only place the gateway touches the emulator: the out-of-the-box run.
            from .emulator import DEMO_API_KEY, EmulatorSettings, run_emulator

            emulator = await stack.enter_async_context(
                run_emulator(EmulatorSettings(), host="127.0.0.1", port=0)
            )
            settings = settings.with_(upstream_url=emulator.api_url, api_key=settings.api_key or DEMO_API_KEY)
            if settings.upstream_plan == "auto":  # a demo: show callers what each query cost upstream
                settings = settings.with_(upstream_plan="on")
            banner += [
                f"upstream: embedded emulator with demo data at {emulator.api_url}",
                f"demo API key: {DEMO_API_KEY} (used for requests without an Authorization header)",
            ]
        else:
            banner.append(f"upstream: {settings.upstream_url}")

        runner = web.AppRunner(create_app(settings), shutdown_timeout=shutdown_timeout, handle_signals=False)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc

        bound_port = runner.addresses[0][1]
        url = f"http://{_url_host(host)}:{bound_port}"
        print(
            f"events-gateway: GraphiQL at {url}/graphql",
            *banner,
            "press Ctrl-C to stop",
            sep="\n",
            flush=True,
        )

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
            stack.callback(loop.remove_signal_handler, signum)
        await stop.wait()
        print("events-gateway: shutting down", flush=True)


def _url_host(host: str) -> str:
    """The host as it belongs in a URL that a browser on this machine can open."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    sys.exit(main())
