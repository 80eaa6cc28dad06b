"""One Redis connection pool whose every command answers within a bounded time and never raises.

Redis down, slow or flushed must never fail a request, so each command:

- is refused at once while the circuit is open (a run of errors opened it; one probe closes it again);
- times out after ``timeout`` seconds per read (and ``connect_timeout`` to connect), not retried (but a
  write's invalidation, sent a few times: see ``run``);
- answers the caller's default on any error, with a log line and a metric, instead of raising.

Cancellation: the command runs in a task of its own that the caller awaits through ``asyncio.shield``.
A caller cancelled mid-command (its request's deadline, a client gone) is released at once, while the
command completes or times out by itself and returns its connection to the pool in a clean state. No
connection is ever left holding a reply nobody read: the bug class of CVE-2023-28858/28859, where a
cancelled command's reply went to the next command on the same connection. (redis-py since 4.5.4 also
disconnects a connection whose read was cancelled; the shield means it never has to.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from ._breaker import Breaker
from .config import (
    DEFAULT_BREAKER_COOLDOWN,
    DEFAULT_BREAKER_THRESHOLD,
    DEFAULT_REDIS_CONNECT_TIMEOUT,
    DEFAULT_REDIS_TIMEOUT,
    CacheConfig,
)
from .observer import CacheObserver, NullObserver

__all__ = ["RedisLink", "cancel_all"]

logger = logging.getLogger("events_gateway.cache")

T = TypeVar("T")
#: What ``_attempt`` answers for a command Redis refused (a ``ResponseError``).
_REFUSED = object()
#: Connections one process opens to Redis at most; a command waits ``timeout`` for a free one.
MAX_CONNECTIONS = 64
#: Seconds ``aclose`` lets commands in flight finish before cancelling them.
CLOSE_GRACE = 1.0
#: Times a forced command is sent while Redis does not answer it: a write's invalidation outweighs the
#: wait, and one reply late on a busy machine must not leave other replicas serving what it changed.
FORCED_ATTEMPTS = 3


async def cancel_all(tasks: set[asyncio.Task[Any]], *, poll: float = 0.1) -> None:
    """Cancel ``tasks`` and wait for them, cancelling again those still running after ``poll`` seconds: a
    cancellation that lands just as a read times out can be taken for the timeout by the client library."""
    while tasks:
        for task in tasks:
            task.cancel()
        _, tasks = await asyncio.wait(tasks, timeout=poll)


class RedisLink:
    """A Redis client for the cache and the persisted-query store, with a breaker and bounded timeouts.

    Example::

        link = RedisLink("redis://127.0.0.1:6379/0", observer=metrics)
        value = await link.run("get", lambda r: r.get("k"), None)   # bytes, or None on any trouble
        await link.aclose()
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_REDIS_TIMEOUT,
        connect_timeout: float = DEFAULT_REDIS_CONNECT_TIMEOUT,
        breaker_threshold: int = DEFAULT_BREAKER_THRESHOLD,
        breaker_cooldown: float = DEFAULT_BREAKER_COOLDOWN,
        max_connections: int = MAX_CONNECTIONS,
        observer: CacheObserver | None = None,
    ) -> None:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=connect_timeout,
            # One retry, on a broken connection only: a pooled connection Redis closed (a restart) fails
            # once and is replaced at once. A timeout is never retried: that would double its cost.
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            client_name="events-gateway",
        )
        self.client: Redis = Redis.from_pool(pool)
        self.breaker = Breaker(breaker_threshold, breaker_cooldown)
        self.observer: CacheObserver = observer or NullObserver()
        # Socket timeouts bound each read; this bounds the rest (waiting for a connection, connecting).
        self._deadline = 2 * timeout + connect_timeout
        self._tasks: set[asyncio.Task[Any]] = set()
        self._failing = False

    @classmethod
    def from_config(cls, config: CacheConfig, *, observer: CacheObserver | None = None) -> RedisLink:
        if config.redis_url is None:
            raise ValueError("the cache config names no Redis")
        return cls(
            config.redis_url,
            timeout=config.redis_timeout,
            connect_timeout=config.redis_connect_timeout,
            breaker_threshold=config.breaker_threshold,
            breaker_cooldown=config.breaker_cooldown,
            observer=observer,
        )

    @property
    def available(self) -> bool:
        """Whether commands are being sent (the circuit is closed)."""
        return self.breaker.closed

    async def run(
        self, operation: str, command: Callable[[Redis], Awaitable[T]], default: T, *, force: bool = False
    ) -> T:
        """``await command(client)``, or ``default`` when the circuit is open or Redis fails in any way.

        ``operation`` names the command in logs and metrics (``get``, ``set``, ``bump``, …). ``force``
        sends it even while the circuit is open, and again while Redis does not answer it (each attempt
        within the timeouts, at most ``FORCED_ATTEMPTS``): for the rare command that matters more than
        the load and the wait it adds, a write's invalidation. A command Redis refused is not sent again.
        """
        if not self.breaker.admit() and not force:
            return default
        for _ in range(FORCED_ATTEMPTS if force else 1):
            task = asyncio.ensure_future(self._attempt(operation, command))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            answered, result = await asyncio.shield(task)
            if answered:
                return default if result is _REFUSED else cast(T, result)
        return default

    def script(self, source: str) -> AsyncScript:
        """A Lua script, run by its SHA and loaded again when Redis has lost it (restart, flush)."""
        return self.client.register_script(source)

    async def run_script(
        self,
        operation: str,
        script: AsyncScript,
        keys: Sequence[str],
        args: Sequence[str | int],
        *,
        force: bool = False,
    ) -> Any:
        """Run ``script``; its answer, or ``None`` on any trouble."""
        return await self.run(
            operation, lambda r: script(keys=list(keys), args=list(args), client=r), None, force=force
        )

    async def ping(self) -> bool:
        """Whether Redis answers (also the breaker's probe)."""
        return bool(await self.run("ping", lambda r: r.ping(), False))

    def pubsub(self) -> PubSub:
        """A subscriber on a connection of its own (see broadcast.py)."""
        return self.client.pubsub()

    def failed(self, operation: str, exc: BaseException) -> None:
        """Count and log one failed Redis operation (also for the subscriber's own connection)."""
        self.observer.record_cache_redis_error(operation)
        # One warning when trouble starts; the breaker logs when it opens and closes; the rest is debug.
        log = logger.debug if self._failing else logger.warning
        self._failing = True
        log("redis %s failed (%s: %s); answering without the cache", operation, type(exc).__name__, exc)

    async def aclose(self) -> None:
        """Let commands in flight finish (briefly), then close every connection."""
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=CLOSE_GRACE)
            await cancel_all(late)
        await self.client.aclose()

    async def _attempt(self, operation: str, command: Callable[[Redis], Awaitable[Any]]) -> tuple[bool, Any]:
        """Whether Redis answered, and what (``_REFUSED`` when it refused the command)."""
        try:
            async with asyncio.timeout(self._deadline):
                result = await command(self.client)
        except asyncio.CancelledError:
            self.breaker.neutral()
            raise
        except ResponseError as exc:  # Redis answered, but refused the command: not an outage
            self.breaker.success()
            self.failed(operation, exc)
            return True, _REFUSED
        except Exception as exc:  # connection errors, timeouts, and anything unforeseen: never raise
            self.breaker.failure()
            self.failed(operation, exc)
            return False, None
        self.breaker.success()
        self._failing = False
        return True, result
