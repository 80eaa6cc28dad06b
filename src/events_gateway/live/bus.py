"""Live queries across replicas, through Redis: one replica polls each live query, the others listen.

With ``EVENTS_GATEWAY_REDIS_URL`` set, every worker and replica behaves as one for live queries:

- **Lease.** The replica holding ``<ns>:lease:<query id>`` polls that live query; the others do not. The
  lease is taken with ``SET NX PX`` and renewed by its holder every interval, for three intervals; when
  its holder stops (its last subscriber left, it shut down, it died), it lapses or is released, and the
  next replica with a subscriber takes it at its own next interval.
- **Results.** The holder publishes each changed result on ``<ns>:events`` and keeps the latest under
  ``<ns>:latest:<query id>``, so a subscriber that joins on another replica gets the current result at
  once; results travel as their JSON, encoded once by the holder.
- **Writes.** Each write through any replica is announced on the same channel; the holder of each live
  query it touches re-runs it at once.
- **Trouble.** Redis never starves a subscriber: while the channel is not subscribed or Redis does not
  answer, a replica polls its live queries itself, as without Redis.

A query id is a hash of the key hash, the document, the operation name and the variables, so replicas agree
on it only when they hash API keys alike: with the cache's secret (``EVENTS_GATEWAY_CACHE_SECRET``, else
the one the cache keeps in Redis), through the cache's ``KeyHasher``. The API key itself never reaches Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Final

import orjson
from graphql import ExecutionResult, GraphQLError

from ..cache import Broadcast, KeyHasher, RedisLink, exchange_secret, new_secret
from ..graph import LiveEvent, Write
from .keys import NO_KEY

__all__ = ["NAMESPACE", "Coordination", "RedisBus"]

logger = logging.getLogger("events_gateway.live")

NAMESPACE: Final = "events-gateway:live:v1"
#: Seconds ``open`` waits for the subscription before answering (replicas poll for themselves until).
SUBSCRIBE_WAIT = 1.0
#: Lease lifetime, in intervals: a holder renews it every interval, so two renewals may fail in a row.
LEASE_INTERVALS = 3
#: Seconds between renewals of the shared secret's TTL (the cache renews it too, when it runs).
SECRET_RENEWAL = 3600.0

#: Take the lease when free, or renew it when ours; keep the latest result alive with it. 1: ours.
_LEAD = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) or redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
#: Release the lease if it is ours.
_RESIGN = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

OnResult = Callable[[str, str, LiveEvent], None]
OnWrite = Callable[[str, Write], None]


class RemoteError(GraphQLError):
    """An error of a result another replica computed, as it formatted it (locations and all)."""

    def __init__(self, formatted: dict[str, Any]) -> None:
        super().__init__(str(formatted.get("message", "")), extensions=formatted.get("extensions"))
        self._formatted = formatted

    @property
    def formatted(self) -> Any:
        return self._formatted


class RedisBus:
    """One process's side of the live-query bus (module docstring).

    Example::

        bus = await RedisBus.open(link, secret=None, cache_namespace="events-gateway:cache:v1")
        bus.listen(on_result=registry.shared_result, on_write=registry.shared_write)
        coordination = bus.coordination(bus.query_id(...), interval=5.0)
        if await coordination.lead():
            ...poll, then await coordination.publish(digest, event)
    """

    def __init__(
        self,
        link: RedisLink,
        secret: str,
        *,
        cache_namespace: str,
        namespace: str = NAMESPACE,
    ) -> None:
        self.instance = uuid.uuid4().hex
        self._link = link
        self._secret = secret
        self._cache_namespace = cache_namespace
        self._hasher = KeyHasher(secret)
        self._renewed = time.monotonic()
        self._namespace = namespace
        self._channel = f"{namespace}:events"
        self._lead = link.script(_LEAD)
        self._resign = link.script(_RESIGN)
        self._on_result: OnResult = lambda *_: None
        self._on_write: OnWrite = lambda *_: None
        self._broadcast = Broadcast(
            link,
            self._channel,
            on_message=self._received,
            on_gap=lambda: None,
            on_tick=self._upkeep,
            name="live queries",
            lost="each replica polls its own live queries until it is back",
        )
        self._tasks: set[asyncio.Task[Any]] = set()

    @classmethod
    async def open(cls, link: RedisLink, *, secret: str | None, cache_namespace: str) -> RedisBus | None:
        """A bus ready to use, or ``None`` when the deployment's secret cannot be had (Redis not answering
        at start): then each replica polls for itself, which is correct, only dearer."""
        if secret is None:
            secret = await exchange_secret(link, cache_namespace, new_secret())
        if secret is None:
            logger.warning("live queries: Redis did not give the shared secret; each replica polls alone")
            return None
        bus = cls(link, secret, cache_namespace=cache_namespace)
        bus._broadcast.start()
        await bus._broadcast.wait_subscribed(SUBSCRIBE_WAIT)
        return bus

    @property
    def connected(self) -> bool:
        """Whether this replica hears the other replicas now (subscribed, Redis answering)."""
        return self._broadcast.subscribed and self._link.available

    def key_hash(self, api_key: str | None) -> str:
        """The deployment-wide hash of ``api_key`` (the cache's, so both name a key alike)."""
        return self._hasher.hash(api_key).digest if api_key else NO_KEY

    def query_id(self, key_hash: str, document: str, operation_name: str | None, variables: bytes) -> str:
        """The id every replica gives the same live query."""
        parts = (key_hash, document, operation_name or "", variables.decode())
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]

    def listen(self, *, on_result: OnResult, on_write: OnWrite) -> None:
        """Hand other replicas' results and writes to these (the registry's)."""
        self._on_result = on_result
        self._on_write = on_write

    def coordination(self, query_id: str, *, interval: float) -> Coordination:
        return Coordination(self, query_id, ttl_ms=max(1, int(LEASE_INTERVALS * interval * 1000)))

    def announce(self, key_hash: str, write: Write) -> None:
        """Tell every replica of a write (in the background: a mutation's answer never waits on Redis)."""
        header = {
            "t": "w",
            "i": self.instance,
            "k": key_hash,
            "c": write.change,
            "n": write.kind,
            "id": write.id,
            "p": write.parent_id,
        }
        self._spawn(self._publish(orjson.dumps(header)))

    async def aclose(self) -> None:
        await self._broadcast.aclose()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- what a live query's loop calls (through its Coordination) ---------------------------------

    async def _take(self, query_id: str, ttl_ms: int) -> bool:
        if not self.connected:
            return True  # deaf to the others: poll for ourselves
        answer = await self._link.run_script(
            "live_lease", self._lead, [self._lease(query_id), self._latest(query_id)], [self.instance, ttl_ms]
        )
        return answer is None or int(answer) == 1  # no answer from Redis: poll for ourselves

    async def _give_up(self, query_id: str) -> None:
        await self._link.run_script("live_lease", self._resign, [self._lease(query_id)], [self.instance])

    async def _share(self, query_id: str, digest: str, event: LiveEvent, ttl_ms: int) -> None:
        message = _result_message(self.instance, query_id, digest, event)
        latest = self._latest(query_id)

        async def store_and_publish(r: Any) -> Any:
            async with r.pipeline(transaction=True) as pipe:
                pipe.set(latest, message, px=ttl_ms)
                pipe.publish(self._channel, message)
                return await pipe.execute()

        await self._link.run("live_publish", store_and_publish, None)

    async def _current(self, query_id: str) -> tuple[str, LiveEvent] | None:
        latest = self._latest(query_id)
        message = await self._link.run("live_latest", lambda r: r.get(latest), None)
        if not isinstance(message, bytes):
            return None
        parsed = _parse_result(message)
        return None if parsed is None else (parsed[1], parsed[2])

    # --- the channel ---------------------------------------------------------------------------------

    def _received(self, message: bytes) -> None:
        try:
            if message.startswith(b'{"t":"w"'):
                header = orjson.loads(message)
                if header["i"] != self.instance:  # our own writes were handled when they happened
                    write = Write(header["c"], header["n"], header["id"], header["p"])
                    self._on_write(header["k"], write)
                return
            parsed = _parse_result(message)
            if parsed is not None and parsed[3] != self.instance:
                self._on_result(parsed[0], parsed[1], parsed[2])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            logger.warning("live queries: a message on the channel could not be read; ignored")

    async def _upkeep(self) -> None:
        """Keep the shared secret alive in Redis. A secret Redis lost and replaced meanwhile (a flush) is
        not adopted: key hashes must stay what they were, so this process then shares no live query with
        processes started since, and each polls for itself until it restarts (correct, only dearer)."""
        if time.monotonic() - self._renewed < SECRET_RENEWAL:
            return
        self._renewed = time.monotonic()
        held = await exchange_secret(self._link, self._cache_namespace, self._secret)
        if held is not None and held != self._secret:
            logger.warning("live queries: Redis holds another key-hash secret than this process started with")

    async def _publish(self, message: bytes) -> None:
        await self._link.run("live_publish", lambda r: r.publish(self._channel, message), None)

    def _lease(self, query_id: str) -> str:
        return f"{self._namespace}:lease:{query_id}"

    def _latest(self, query_id: str) -> str:
        return f"{self._namespace}:latest:{query_id}"

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class Coordination:
    """What one live query's loop asks of the bus: whether to poll, and where results go and come from."""

    __slots__ = ("_bus", "_ttl_ms", "query_id")

    def __init__(self, bus: RedisBus, query_id: str, *, ttl_ms: int) -> None:
        self._bus = bus
        self.query_id = query_id
        self._ttl_ms = ttl_ms

    async def lead(self) -> bool:
        """Take or renew the lease; whether this replica polls now."""
        return await self._bus._take(self.query_id, self._ttl_ms)

    async def resign(self) -> None:
        """Release the lease (when this replica holds it), so another replica takes over at once."""
        await self._bus._give_up(self.query_id)

    async def publish(self, digest: str, event: LiveEvent) -> None:
        """Hand a changed result to the other replicas, and keep it for those that join later."""
        await self._bus._share(self.query_id, digest, event, self._ttl_ms)

    async def latest(self) -> tuple[str, LiveEvent] | None:
        """The latest result the holder shared, with its digest; ``None`` when there is none."""
        return await self._bus._current(self.query_id)


def _result_message(instance: str, query_id: str, digest: str, event: LiveEvent) -> bytes:
    """A header line (JSON), a newline, then the result's ``data`` as the holder encoded it."""
    errors = [error.formatted for error in event.result.errors or ()]
    header = orjson.dumps({"t": "r", "i": instance, "q": query_id, "h": digest, "e": errors})
    data = event.encoded_data
    if data is None:  # orjson could not encode it (an integer over 64 bits): the standard library can
        data = json.dumps(event.result.data, separators=(",", ":"), default=str).encode()
    return header + b"\n" + data


def _parse_result(message: bytes) -> tuple[str, str, LiveEvent, str] | None:
    """(query id, digest, event, sender) of a result message; ``None`` when it is not one."""
    head, newline, data = message.partition(b"\n")
    if not newline:
        return None
    header = orjson.loads(head)
    if header.get("t") != "r":
        return None
    errors: list[GraphQLError] = [RemoteError(error) for error in header["e"]]
    result = ExecutionResult(data=orjson.loads(data), errors=errors or None)
    return header["q"], header["h"], LiveEvent(result, data), header["i"]
