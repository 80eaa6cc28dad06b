"""A serving process's stop that cuts off no connection it has accepted.

aiohttp's ``runner.cleanup()`` stops accepting, closes at once every connection that is not inside a
request, then gives the requests in flight the shutdown timeout. A connection accepted just before the
stop whose request had not been read yet counts as idle: it was closed unanswered, and its client saw
a reset or an empty reply (on a busy machine a client's request follows its connect by milliseconds,
and a reload of ``serve --workers N`` stops a worker while clients keep connecting). So ``GracefulStop``:

1. stops accepting (under ``serve --workers N`` the other workers take new connections from the shared
   queue; a single ``serve`` refuses them);
2. keeps serving the connections already accepted until each has been answered at least once (at
   most the shutdown timeout), every answer from now on saying ``Connection: close`` so that a
   keep-alive client comes back on a new connection instead of reusing this one;
3. then lets ``runner.cleanup()`` close the idle connections and finish the requests in flight.

A keep-alive connection left idle through all of it is still closed under a client that reuses it at
that very moment: HTTP/1.1 leaves that race to the client, which retries on a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Final

from aiohttp import hdrs, web

__all__ = ["GracefulStop"]

#: Seconds between two looks at the connections still owed an answer, besides one after each answer
#: (a connection that closes unanswered signals nothing).
POLL: Final = 0.05


class GracefulStop:
    """Stops an ``AppRunner`` of ``app`` in the order above; ``stop`` replaces ``runner.cleanup``.

    Example::

        graceful = GracefulStop(app)
        runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)
        await runner.setup()
        ...
        await graceful.stop(runner, shutdown_timeout)
    """

    def __init__(self, app: web.Application) -> None:
        self.stopping = False
        # Connections (by transport, which outlives no connection) that have had an answer.
        self._answered: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()
        self._answer = asyncio.Event()
        app.on_response_prepare.append(self._on_response_prepare)

    async def _on_response_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.transport is not None:
            self._answered.add(request.transport)
        if self.stopping:
            self._answer.set()
            response.force_close()
            # aiohttp has chosen the Connection header before this hook: say it here too.
            response.headers[hdrs.CONNECTION] = "close"

    def _owed(self, runner: web.BaseRunner) -> int:
        """How many open connections have not been answered yet."""
        if runner.server is None:
            return 0
        return sum(
            1
            for connection in runner.server.connections
            if connection.transport is not None and connection.transport not in self._answered
        )

    async def stop(self, runner: web.BaseRunner, shutdown_timeout: float) -> None:
        """Stop accepting, answer what was accepted (within ``shutdown_timeout`` seconds), clean up."""
        self.stopping = True
        for site in list(runner.sites):
            await site.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + shutdown_timeout
        while self._owed(runner) and (left := deadline - loop.time()) > 0:
            self._answer.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answer.wait(), min(POLL, left))
        await runner.cleanup()
