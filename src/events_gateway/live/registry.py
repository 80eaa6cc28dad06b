"""Every live query of the process, one per distinct (key hash, document, variables).

A subscriber joins the live query its request names, which is created with its first subscriber and
dropped with its last, so however many tabs watch the same tree with the same key, the upstream sees
one poll. The registry also bounds how many subscriptions one key may hold, and turns the gateway's own
writes into immediate re-runs of the live queries they may change: those of the same key whose document
reads a kind the write touches.

Example::

    live = LiveQueries(runner, interval=5.0, max_per_key=500)
    source = live.source(api_key)               # what a transport passes as the root value
    events = source.watch(request)              # AsyncIterator[LiveEvent]
    live.written(api_key, Write("created", "event", "e9", parent_id="c1"))  # re-runs what it changes
    await live.aclose()                          # completes every subscription
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson

from ..graph import ErrorCode, GraphError, LiveEvent, LiveRequest, Write
from .bus import RedisBus
from .keys import KeyHashFn, process_key_hasher
from .poller import LiveObserver, LiveQuery, NullObserver
from .runner import QueryRunner

__all__ = [
    "KeySource",
    "LiveQueries",
    "LiveQueryKey",
    "ShuttingDown",
    "TooManySubscriptions",
]


class TooManySubscriptions(GraphError):
    """This key already holds as many subscriptions as the gateway allows one key."""

    code = ErrorCode.TOO_MANY_SUBSCRIPTIONS

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This API key already holds {limit} subscriptions, the most the gateway allows one key "
            "(EVENTS_GATEWAY_LIVE_MAX_PER_KEY); end some before starting more."
        )


class ShuttingDown(GraphError):
    """The gateway is stopping: it starts no more subscriptions."""

    code = ErrorCode.SHUTTING_DOWN


@dataclass(frozen=True, slots=True)
class LiveQueryKey:
    """What makes two subscriptions the same live query."""

    key_hash: str
    document: str
    operation_name: str | None
    variables: bytes  # canonical JSON

    @classmethod
    def of(cls, key_hash: str, request: LiveRequest) -> LiveQueryKey:
        variables = orjson.dumps(dict(request.variables), option=orjson.OPT_SORT_KEYS)
        return cls(key_hash, request.document, request.operation_name, variables)


class LiveQueries:
    """The process's live queries (see the module docstring).

    Attributes:
        interval: seconds between polls of one live query when nothing wakes it sooner.
        max_per_key: subscriptions one key may hold at once, across every connection.
    """

    def __init__(
        self,
        runner: QueryRunner,
        *,
        interval: float,
        max_per_key: int,
        key_hash: KeyHashFn | None = None,
        observer: LiveObserver | None = None,
        bus: RedisBus | None = None,
    ) -> None:
        self.interval = interval
        self.max_per_key = max_per_key
        self._runner = runner
        self._bus = bus
        self._key_hash = key_hash or (bus.key_hash if bus is not None else process_key_hasher())
        self._by_id: dict[str, LiveQuery] = {}
        self._observer: LiveObserver = observer or NullObserver()
        self._queries: dict[LiveQueryKey, LiveQuery] = {}
        self._kinds: dict[LiveQueryKey, frozenset[str]] = {}
        self._per_key: Counter[str] = Counter()
        self._closed = False
        self._ids = itertools.count(1)
        if bus is not None:
            bus.listen(on_result=self.shared_result, on_write=self.shared_write)

    @property
    def queries(self) -> int:
        """Live queries polling now."""
        return len(self._queries)

    @property
    def subscriptions(self) -> int:
        """Subscriptions open now."""
        return sum(self._per_key.values())

    def source(self, api_key: str | None) -> KeySource:
        """What a transport passes as the root value of subscriptions made with ``api_key``."""
        return KeySource(self, api_key)

    def watch(self, api_key: str | None, request: LiveRequest) -> AsyncIterator[LiveEvent]:
        """Join (or start) the live query of ``request`` for ``api_key``; raises
        ``TooManySubscriptions`` when the key holds ``max_per_key`` subscriptions already, and
        ``ShuttingDown`` once :meth:`aclose` has begun."""
        if self._closed:
            raise ShuttingDown()
        key_hash = self._key_hash(api_key)
        if self._per_key[key_hash] >= self.max_per_key:
            raise TooManySubscriptions(self.max_per_key)
        name = LiveQueryKey.of(key_hash, request)
        query = self._queries.get(name)
        if query is None:
            query = self._start(name, request, api_key)
        subscriber = query.join(on_leave=lambda: self._left(key_hash))
        self._per_key[key_hash] += 1
        self._count()
        return subscriber

    def written(self, api_key: str | None, write: Write) -> None:
        """The gateway wrote ``write`` with ``api_key``: re-run now this key's live queries it may change,
        here and (through the bus) on every replica."""
        key_hash = self._key_hash(api_key)
        self.shared_write(key_hash, write)
        if self._bus is not None:
            self._bus.announce(key_hash, write)

    def shared_result(self, query_id: str, digest: str, event: LiveEvent) -> None:
        """Another replica's result of a live query (the bus's ``on_result``)."""
        query = self._by_id.get(query_id)
        if query is not None:
            query.offer_shared(digest, event)

    def shared_write(self, key_hash: str, write: Write) -> None:
        """A write made with the key ``key_hash`` hashes to, here or on another replica: re-run now the
        live queries of that key it may change (those another replica polls re-run there)."""
        touched = write.touches()
        now = time.perf_counter()
        for name, query in self._queries.items():
            if name.key_hash == key_hash and self._kinds[name] & touched:
                query.rerun(now)

    async def aclose(self) -> None:
        """Complete every subscription and stop every poll (at shutdown)."""
        self._closed = True
        queries = list(self._queries.values())
        for query in queries:
            query.end()
        for query in queries:
            await query.wait_stopped()

    def _start(self, name: LiveQueryKey, request: LiveRequest, api_key: str | None) -> LiveQuery:
        request_id = f"live-{next(self._ids)}"
        query_id = coordination = None
        if self._bus is not None:
            query_id = self._bus.query_id(name.key_hash, name.document, name.operation_name, name.variables)
            coordination = self._bus.coordination(query_id, interval=self.interval)
        query = LiveQuery(
            lambda: self._runner.run(request, api_key, request_id),
            interval=self.interval,
            observer=self._observer,
            on_idle=lambda ended: self._drop(name, ended, query_id),
            coordination=coordination,
        )
        self._queries[name] = query
        if query_id is not None:
            self._by_id[query_id] = query
        self._kinds[name] = request.kinds
        return query

    def _drop(self, name: LiveQueryKey, query: LiveQuery, query_id: str | None) -> None:
        if self._queries.get(name) is query:
            del self._queries[name]
            del self._kinds[name]
        if query_id is not None and self._by_id.get(query_id) is query:
            del self._by_id[query_id]
        self._count()

    def _left(self, key_hash: str) -> None:
        self._per_key[key_hash] -= 1
        if self._per_key[key_hash] <= 0:
            del self._per_key[key_hash]
        self._count()

    def _count(self) -> None:
        self._observer.set_live_counts(self.subscriptions, self.queries)


class KeySource:
    """A :class:`~events_gateway.graph.live.LiveSource` for one key: its ``watch`` joins the registry's
    live queries under that key."""

    __slots__ = ("_api_key", "_registry")

    def __init__(self, registry: LiveQueries, api_key: str | None) -> None:
        self._registry = registry
        self._api_key = api_key

    def watch(self, request: LiveRequest) -> AsyncIterator[LiveEvent]:
        return self._registry.watch(self._api_key, request)
