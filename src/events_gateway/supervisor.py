"""``serve --workers N``: N gateway processes on one port, kept running by one parent.

Python runs one thread of Python at a time, so one process uses one core. The parent binds and listens
on the port itself (one socket per address of ``--host``) and every worker inherits those sockets
(pre-fork): all workers take connections from the same accept queue, so a worker that stops merely
stops accepting and the connections already queued go to the others. Separate sockets per worker
(``SO_REUSEPORT``) would not do: the kernel gives each its own queue, and closing one resets the
connections queued in it, so every reload dropped a few. The parent serves nothing itself. It:

- starts the embedded emulator once, when ``EVENTS_API_URL`` is unset, and points every worker at it;
- listens before any worker starts, so port 0 is picked once, a taken port is refused at once, and every
  worker, restarted or of a reload, serves the same queue;
- restarts a worker that dies (after a pause, so a worker that cannot start does not spin);
- on SIGTERM or SIGINT, forwards SIGTERM to every worker, which stops accepting, answers the
  connections it has accepted and finishes its requests in flight, then exits 0;
- on SIGHUP, reloads gracefully: starts a fresh set of workers and, once all of them accept, stops the
  old ones; if the fresh set cannot start, the old one keeps serving;
- when it dies, even killed, its workers notice (``when_orphaned``) and stop gracefully.

Workers run in their own session, so a Ctrl-C in the terminal reaches the parent alone and each worker
gets exactly one SIGTERM from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

#: Printed by a worker (``serve --worker``) once it accepts; the parent waits for it.
READY: Final = "events-gateway: worker ready"
#: Seconds a worker gets to start accepting.
START_TIMEOUT: Final = 60.0
#: Seconds between a worker's unexpected exit and its replacement.
RESTART_DELAY: Final = 1.0
#: Seconds a stopping worker gets beyond its own graceful stop before it is killed. That stop takes
#: at most twice its shutdown timeout: once to answer the connections it accepted, once to finish the
#: requests in flight (``server.GracefulStop``).
STOP_GRACE: Final = 5.0
#: Accept queue length of the shared sockets (aiohttp's default; each worker sets it again).
BACKLOG: Final = 128


class WorkersFailed(RuntimeError):
    """The first set of workers could not start (their own output says why); ``serve`` exits 1."""


def listen(host: str, port: int) -> list[socket.socket]:
    """The parent's listening sockets, one per address of ``host`` (all of them for ``""``, as
    ``serve`` binds), all on one port: for port 0, the free one the first address got.

    ``SO_REUSEADDR`` as asyncio sets it, so a restart is not refused while old connections linger;
    ``OSError`` when an address is taken or not this machine's."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):  # one per distinct address
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # as asyncio: "::" must not also take the IPv4 port
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address[0], port, *address[2:]))
            sock.listen(BACKLOG)
            port = int(sock.getsockname()[1])
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def inherited(fds: Sequence[int]) -> list[socket.socket]:
    """A worker's view of the parent's listening sockets (``serve --worker --fd N``)."""
    return [socket.socket(fileno=fd) for fd in fds]


def when_orphaned(callback: Callable[[], None]) -> Callable[[], object]:
    """In a worker: call ``callback`` once the parent is gone, however it died; returns the undo.

    A worker's standard input is a pipe from its parent that nothing is written to, so its end means
    the parent has exited (a killed parent stops nothing else: workers would keep the port, and serve
    it with old code). Standard output, the parent's pipe too, then goes to ``/dev/null``, so that the
    worker's last lines do not fail on a broken pipe.
    """
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()

    def readable() -> None:
        if os.read(fd, 4096):  # nothing is sent; ignore it if something is
            return
        loop.remove_reader(fd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        callback()

    loop.add_reader(fd, readable)
    return lambda: loop.remove_reader(fd)


@dataclass(eq=False)
class _Worker:
    process: asyncio.subprocess.Process
    ready: asyncio.Future[None]
    stopping: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid


class Supervisor:
    """Starts, watches, reloads and stops the worker processes of one ``serve --workers N``."""

    def __init__(
        self,
        *,
        count: int,
        host: str,
        sockets: Sequence[socket.socket],
        shutdown_timeout: float,
        env: Mapping[str, str],
    ) -> None:
        self.count = count
        self.host = host
        self.fds = [sock.fileno() for sock in sockets]
        self.shutdown_timeout = shutdown_timeout
        self.env = dict(env)
        self.workers: list[_Worker] = []
        self._closing = False
        self._reload_lock = asyncio.Lock()
        self._restarts: set[asyncio.Task[None]] = set()

    @property
    def pids(self) -> list[int]:
        return [worker.pid for worker in self.workers]

    async def start(self) -> None:
        """Start the first set of workers; ``WorkersFailed`` if any of them cannot start."""
        fresh = await self._start_set()
        if fresh is None:
            raise WorkersFailed("the workers could not start (see above)")
        self.workers = fresh

    async def reload(self) -> None:
        """A fresh set of workers, then the old set stopped; the old set stays if the fresh one fails."""
        async with self._reload_lock:
            if self._closing:
                return
            fresh = await self._start_set()
            if fresh is None:
                _say("reload failed: the new workers did not start; the running ones keep serving")
                return
            old, self.workers = self.workers, fresh
            _say(f"reloaded: workers {_pids(fresh)} replace {_pids(old)}")
            await asyncio.gather(*(self._stop(worker) for worker in old))

    async def close(self) -> None:
        """SIGTERM to every worker; wait for each to finish its requests (kill any that overstays)."""
        self._closing = True
        for task in self._restarts:
            task.cancel()
        async with self._reload_lock:
            await asyncio.gather(*(self._stop(worker) for worker in self.workers))
            self.workers = []

    # -- one worker ----------------------------------------------------------------------------------

    async def _start_set(self) -> list[_Worker] | None:
        started = await asyncio.gather(*(self._start_one() for _ in range(self.count)))
        if all(worker is not None for worker in started):
            return [worker for worker in started if worker is not None]
        await asyncio.gather(*(self._stop(worker) for worker in started if worker is not None))
        return None

    async def _start_one(self) -> _Worker | None:
        """An accepting worker, or ``None`` when it exited or overran ``START_TIMEOUT`` before that."""
        command = [sys.executable, "-m", "events_gateway.cli", "serve", "--worker", "--host", self.host]
        command += [f"--fd={fd}" for fd in self.fds]
        command += ["--shutdown-timeout", str(self.shutdown_timeout)]
        process = await asyncio.create_subprocess_exec(
            *command,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,  # never written to: its end tells the worker we are gone
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
            pass_fds=self.fds,
        )
        worker = _Worker(process, asyncio.get_running_loop().create_future())
        worker.tasks = [
            asyncio.create_task(self._relay(worker)),
            asyncio.create_task(self._watch(worker)),
        ]
        try:
            await asyncio.wait_for(asyncio.shield(worker.ready), START_TIMEOUT)
        except (TimeoutError, ProcessExited):
            await self._stop(worker)
            return None
        return worker

    async def _relay(self, worker: _Worker) -> None:
        """Pass the worker's output on; its readiness line resolves ``worker.ready``."""
        assert worker.process.stdout is not None
        async for raw in worker.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith(READY):
                if not worker.ready.done():
                    worker.ready.set_result(None)
                continue
            print(line, flush=True)

    async def _watch(self, worker: _Worker) -> None:
        """Notice an exit: before readiness it fails the start; later, unasked, it gets a replacement."""
        returncode = await worker.process.wait()
        if not worker.ready.done():
            worker.ready.set_exception(ProcessExited(returncode))
            worker.ready.exception()  # retrieved here, so an unawaited failure is not reported twice
            return
        if worker.stopping or self._closing or worker not in self.workers:
            return
        _say(f"worker {worker.pid} exited with status {returncode}; starting another")
        self.workers.remove(worker)
        if not self._restarts:
            task = asyncio.create_task(self._grow())
            self._restarts.add(task)
            task.add_done_callback(self._restarts.discard)

    async def _grow(self) -> None:
        """Bring the set back to ``count`` workers, one attempt per ``RESTART_DELAY``."""
        while not self._closing and len(self.workers) < self.count:
            await asyncio.sleep(RESTART_DELAY)
            async with self._reload_lock:
                if self._closing or len(self.workers) >= self.count:
                    return
                fresh = await self._start_one()
                if fresh is not None:
                    self.workers.append(fresh)

    async def _stop(self, worker: _Worker) -> None:
        worker.stopping = True
        process = worker.process
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 2 * self.shutdown_timeout + STOP_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        await asyncio.gather(*worker.tasks, return_exceptions=True)


class ProcessExited(Exception):
    """A worker exited before it accepted."""

    def __init__(self, returncode: int) -> None:
        super().__init__(f"exited with status {returncode}")
        self.returncode = returncode


def _pids(workers: list[_Worker]) -> str:
    return ", ".join(str(worker.pid) for worker in workers)


def _say(message: str) -> None:
    print(f"events-gateway: {message}", flush=True)


def worker_count(requested: int) -> int:
    """``--workers``: 0 means one per CPU core this process may use."""
    if requested > 0:
        return requested
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
