"""``events-gateway``: serve the gateway, run the emulator, export the schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from .observability import configure_logging, configure_tracing
from .settings import Settings, SettingsError
from .supervisor import (
    BACKLOG,
    READY,
    Supervisor,
    WorkersFailed,
    inherited,
    listen,
    when_orphaned,
    worker_count,
)

#: Seconds, after Ctrl-C or SIGTERM, that connections already accepted get to send their request, and
#: then that requests in flight get to finish, before their connections are closed.
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
#: Names the process that answered, on every response of ``serve --workers N``.
WORKER_HEADER = "X-Gateway-Worker"
#: The cycle collector's thresholds once the app is built (CPython's default first one is 700).
GC_THRESHOLDS = (50_000, 20, 10)


class CannotListen(RuntimeError):
    """``serve`` could not bind its address; the message says which and why."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="events-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    from .emulator import add_emulator_command

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
            "in the same process and its demo key is used for requests that carry no Authorization header "
            "and come from no other origin."
        ),
    )
    serve.add_argument("--host", help="address to listen on (default: EVENTS_GATEWAY_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on, 0 for any free one (default: 8000)")
    serve.add_argument(
        "--shutdown-timeout",
        type=float,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        help=(
            "seconds accepted connections get to ask, and requests in flight to finish, on shutdown "
            "(default: %(default)s)"
        ),
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help=(
            "processes sharing one listening socket, under one parent that restarts them, forwards "
            "SIGTERM/SIGINT and reloads them on SIGHUP; 0 means one per CPU core (default: 1)"
        ),
    )
    # One process of ``--workers N``, started by the parent, serving the sockets it inherits (``--fd``,
    # once per socket); not for use by hand.
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--fd", type=int, action="append", default=[], help=argparse.SUPPRESS)
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
    if args.workers < 0:
        print("events-gateway: --workers must be 0 (one per core) or more", file=sys.stderr)
        return 2
    if args.worker and not args.fd:
        print("events-gateway: --worker serves inherited sockets; give each with --fd", file=sys.stderr)
        return 2
    count = worker_count(args.workers)
    timeout = args.shutdown_timeout
    try:
        if args.worker:
            _run(serve(settings, host=host, shutdown_timeout=timeout, sockets=inherited(args.fd)))
        elif count > 1:
            _run(supervise(settings, count=count, host=host, port=port, shutdown_timeout=timeout))
        else:
            _run(serve(settings, host=host, port=port, shutdown_timeout=timeout))
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


def settle_heap() -> None:
    """Tune the cycle collector for a server whose requests build large trees of short-lived objects.

    Everything built at startup (the schema, the modules) moves out of the collector's sight for good,
    and the young generation may grow to ``GC_THRESHOLDS[0]`` objects before a pass: at CPython's 700, a
    large query was collected some thirty times while its tree was being built, each pass walking the
    live tree again (a third of the query's CPU). Objects freed by reference counting never count.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _stamp_worker(request: web.Request, response: web.StreamResponse) -> None:
    response.headers[WORKER_HEADER] = str(os.getpid())


async def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    sockets: Sequence[socket.socket] = (),
) -> None:
    """Serve until SIGINT or SIGTERM, then stop accepting, answer the connections already accepted and
    finish the requests in flight (``GracefulStop``), and close the upstream client.

    ``host`` and ``port`` default to the settings'; port 0 picks a free port, and the banner names it.
    Given ``sockets``, it is a worker of ``serve --workers N``: it accepts on the listening sockets
    the parent holds (on their port, not ``port``), names itself in a response header and prints one
    readiness line instead of the banner.
    """
    worker = bool(sockets)
    host = settings.host if host is None else host
    port = settings.port if port is None else port
    if sockets:
        port = sockets[0].getsockname()[1]
    from .server import GracefulStop, create_app

    async with contextlib.AsyncExitStack() as stack:
        settings, banner = await _upstream(settings, stack)
        # The app's host rule follows the address it really listens on (``--host`` included).
        app = create_app(settings.with_(host=host))
        if worker:
            app.on_response_prepare.append(_stamp_worker)
        graceful = GracefulStop(app)
        runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout, handle_signals=False)
        await runner.setup()
        stack.push_async_callback(graceful.stop, runner, shutdown_timeout)
        settle_heap()
        sites: list[web.BaseSite] = (
            [web.SockSite(runner, sock, backlog=BACKLOG) for sock in sockets]
            if sockets
            else [web.TCPSite(runner, host, port)]
        )
        try:
            for site in sites:
                await site.start()
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc

        bound_port = runner.addresses[0][1]
        url = f"http://{_url_host(host)}:{bound_port}"
        if worker:
            print(f"{READY} (pid {os.getpid()}) at {url}", flush=True)
        else:
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
        if worker:
            stack.callback(when_orphaned(stop.set))
        await stop.wait()
        if worker:
            print(f"events-gateway: worker {os.getpid()} shutting down", flush=True)
        else:
            print("events-gateway: shutting down", flush=True)


async def supervise(
    settings: Settings,
    *,
    count: int,
    host: str,
    port: int,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> None:
    """``serve --workers N``: listen on the port, start ``count`` worker processes that accept on it and
    keep them running until SIGINT or SIGTERM; SIGHUP replaces them gracefully (see ``supervisor``)."""
    env = dict(os.environ)
    async with contextlib.AsyncExitStack() as stack:
        served, banner = await _upstream(settings, stack)
        if settings.upstream_url is None:  # started once, here; every worker is pointed at it
            assert served.upstream_url is not None
            assert served.api_key is not None
            env["EVENTS_API_URL"] = served.upstream_url
            env["EVENTS_API_KEY"] = served.api_key
            env["EVENTS_GATEWAY_UPSTREAM_PLAN"] = served.upstream_plan

        try:
            sockets = listen(host, port)
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        for sock in sockets:  # held, and so the accept queue kept, until every worker has stopped
            stack.callback(sock.close)
        port = sockets[0].getsockname()[1]
        supervisor = Supervisor(
            count=count, host=host, sockets=sockets, shutdown_timeout=shutdown_timeout, env=env
        )
        stack.push_async_callback(supervisor.close)
        try:
            await supervisor.start()
        except WorkersFailed as exc:
            raise CannotListen(str(exc)) from exc

        pids = ", ".join(str(pid) for pid in supervisor.pids)
        print(
            f"events-gateway: GraphiQL at http://{_url_host(host)}:{port}/graphql",
            f"{count} workers (pids {pids}); SIGHUP reloads them",
            *_unshared_cache(settings),
            *banner,
            "press Ctrl-C to stop",
            sep="\n",
            flush=True,
        )

        stop = asyncio.Event()
        reloads: set[asyncio.Task[None]] = set()

        def reload() -> None:
            task = asyncio.create_task(supervisor.reload())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
            stack.callback(loop.remove_signal_handler, signum)
        loop.add_signal_handler(signal.SIGHUP, reload)
        stack.callback(loop.remove_signal_handler, signal.SIGHUP)
        await stop.wait()
        print("events-gateway: shutting down", flush=True)


def _unshared_cache(settings: Settings) -> list[str]:
    """The banner's warning when workers cache apart: without Redis, no worker hears another's writes."""
    if settings.redis_url is not None or settings.cache_ttl <= 0:
        return []
    return [
        "cache: each worker keeps its own (EVENTS_GATEWAY_REDIS_URL is unset), so a write through one "
        f"worker shows through the others within EVENTS_GATEWAY_CACHE_TTL ({settings.cache_ttl:g} s)"
    ]


async def _upstream(settings: Settings, stack: contextlib.AsyncExitStack) -> tuple[Settings, list[str]]:
    """The settings to serve with, and the banner lines that name their upstream.

    With ``EVENTS_API_URL`` unset, the embedded emulator is started on ``stack`` (the only place the
    gateway touches the emulator: the out-of-the-box run); its URL and demo key fill the settings in.
    """
    if settings.upstream_url is not None:
        return settings, [f"upstream: {settings.upstream_url}"]
    from .emulator import DEMO_API_KEY, EmulatorSettings, run_emulator

    emulator = await stack.enter_async_context(run_emulator(EmulatorSettings(), host="127.0.0.1", port=0))
    settings = settings.with_(upstream_url=emulator.api_url, api_key=settings.api_key or DEMO_API_KEY)
    if settings.upstream_plan == "auto":  # a demo: show callers what each query cost upstream
        settings = settings.with_(upstream_plan="on")
    return settings, [
        f"upstream: embedded emulator with demo data at {emulator.api_url}",
        f"demo API key: {DEMO_API_KEY} (used for requests without an Authorization header, "
        "except from pages on other origins)",
    ]


def _url_host(host: str) -> str:
    """The host as it belongs in a URL that a browser on this machine can open."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    sys.exit(main())
