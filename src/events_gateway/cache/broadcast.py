"""The invalidation channel: every process hears every other's bumps, and knows when it may have missed one.

Bumps are published by the very Lua script that makes them (generations.py), so none goes unannounced.
A subscriber can still miss messages while its connection is down; so ``subscribed`` is true only from
the subscription's confirmation until the first sign of trouble (an error, or no answer to a ping for
``silence`` seconds), and the gap is reported at once (``on_gap``), so the cache reads every generation
counter from Redis again, and trusts nothing it learned before, once it is subscribed again. A second
confirmation is a gap too: redis-py reconnects a dropped subscriber by itself when Redis answers at once.

The loop also runs the cache's upkeep (``on_tick``) a few times a second: probing a Redis whose circuit
is open, sending bumps Redis missed, fetching the shared secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.asyncio.client import PubSub

from .link import RedisLink, cancel_all

__all__ = ["Broadcast"]

logger = logging.getLogger("events_gateway.cache")

#: Seconds between upkeep ticks, and the longest a message waits in the socket before it is handled.
POLL = 0.25
#: Seconds between pings on a quiet subscription, and without any answer before it counts as lost.
PING_INTERVAL = 1.0
SILENCE = 3.0
#: Seconds between attempts to subscribe again: doubling from the first to the last.
FIRST_BACKOFF = 0.05
LAST_BACKOFF = 1.0


class Broadcast:
    """Subscribes to ``channel`` for as long as it runs, reconnecting by itself.

    Example::

        broadcast = Broadcast(link, "ns:invalidations", on_message=handle, on_gap=distrust, on_tick=upkeep)
        broadcast.start()
        await broadcast.wait_subscribed(1.0)
        ...
        await broadcast.aclose()
    """

    def __init__(
        self,
        link: RedisLink,
        channel: str,
        *,
        on_message: Callable[[bytes], None],
        on_gap: Callable[[], None],
        on_tick: Callable[[], Awaitable[None]],
        name: str = "cache invalidations",
        lost: str = "the cache bypasses until it is back",
    ) -> None:
        self.channel = channel
        self._name = name
        self._lost = lost
        self._link = link
        self._on_message = on_message
        self._on_gap = on_gap
        self._on_tick = on_tick
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._closing = False

    @property
    def subscribed(self) -> bool:
        """Subscribed, with no gap since the subscription was confirmed."""
        return self._subscribed.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="events-gateway cache broadcast")

    async def wait_subscribed(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the subscription; whether it is there."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._subscribed.wait()
        return self.subscribed

    async def aclose(self) -> None:
        if self._task is None:
            return
        self._closing = True
        await cancel_all({self._task})
        with contextlib.suppress(asyncio.CancelledError):
            self._task.result()
        self._task = None

    async def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._closing:
            pubsub = self._link.pubsub()
            try:
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever broke the subscription, subscribe again
                self._link.failed("subscribe", exc)
            finally:
                was_subscribed = self._gap()
                await _close(pubsub)
            if was_subscribed:
                backoff = FIRST_BACKOFF
            await self._tick()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, LAST_BACKOFF)

    async def _listen(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(SILENCE):
            await pubsub.subscribe(self.channel)
        heard = pinged = loop.time()
        while not self._closing:
            message = await pubsub.get_message(timeout=POLL)
            now = loop.time()
            if message is not None:
                heard = now
                kind = message["type"]
                if kind == "subscribe":
                    if self.subscribed:
                        # redis-py reconnected and subscribed again by itself: what was announced
                        # while the connection was down went unheard.
                        self._on_gap()
                    self._subscribed.set()
                    logger.info("%s: subscribed", self._name)
                elif kind == "message" and self.subscribed:
                    self._on_message(message["data"])
            if now - pinged >= PING_INTERVAL:
                async with asyncio.timeout(SILENCE):
                    await pubsub.ping()
                pinged = now
            if now - heard > SILENCE:
                raise ConnectionError("no answer on the invalidation subscription")
            await self._tick()

    async def _tick(self) -> None:
        try:
            await self._on_tick()
        except asyncio.CancelledError:
            raise
        except Exception:  # upkeep must never stop the subscriber
            logger.exception("cache upkeep failed")

    def _gap(self) -> bool:
        """Report a gap if there was a subscription; whether there was."""
        if not self.subscribed:
            return False
        self._subscribed.clear()
        if not self._closing:
            logger.warning("%s: subscription lost; %s", self._name, self._lost)
        self._on_gap()
        return True


async def _close(pubsub: PubSub) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves this one unannotated
