"""A serving process's stop that cuts off no connection it has accepted.

aiohttp's ``runner.cleanup()`` stops accepting, closes at once every connection that is not inside a
request, then gives the requests in flight the shutdown timeout. A connection accepted just before the
stop whose request had not been read yet counts as idle: it was closed unanswered, and its client saw
a reset or an empty reply (on a busy machine a client's request follows its connect by milliseconds,
and a reload of ``serve --workers N`` stops a worker while clients keep connecting). So ``GracefulStop``:

1. stops accepting (under ``serve --workers N`` the other workers take new connections from the shared
   queue; a single ``serve`` refuses them);
2. keeps serving the connections already accepted, every answer from now on saying ``Connection:
   close`` (the connection closes after it, and a keep-alive client asks again on a new one): until
   each has been answered at least once (at most the shutdown timeout), and for ``linger`` seconds
   until none is left open. Closing an idle keep-alive connection at once would cut off a client that
   is sending its next request on it at that moment, which a busy client always is;
3. then lets ``runner.cleanup()`` close the connections still idle and finish the requests in flight.

A keep-alive connection idle through the whole linger is still closed under a client that reuses it at
that very moment: HTTP/1.1 leaves that race to the client, which retries on a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Final

from aiohttp import hdrs, web

__all__ = ["GracefulStop"]

#: Seconds a stop keeps idle keep-alive connections open for their clients' next request (at most the
#: shutdown timeout): a client asking back to back asks again within milliseconds.
LINGER: Final = 1.0
#: Seconds between two looks at the connections, besides one after each answer (a connection that
#: closes signals nothing).
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

    def _waits_for(self, runner: web.BaseRunner, *, lingering: bool) -> bool:
        """Whether a connection is owed its first answer, or (while ``lingering``) open at all."""
        connections = runner.server.connections if runner.server is not None else []
        return any(
            connection.transport is not None and (lingering or connection.transport not in self._answered)
            for connection in connections
        )

    async def stop(self, runner: web.BaseRunner, shutdown_timeout: float, *, linger: float = LINGER) -> None:
        """Stop accepting, answer what was accepted (within ``shutdown_timeout`` seconds) and what
        the open connections ask (for ``linger`` seconds), then clean up."""
        self.stopping = True
        for site in list(runner.sites):
            await site.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + shutdown_timeout
        lingering_until = loop.time() + min(linger, shutdown_timeout)
        while (left := deadline - loop.time()) > 0 and self._waits_for(
            runner, lingering=loop.time() < lingering_until
        ):
            self._answer.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answer.wait(), min(POLL, left))
        await runner.cleanup()
