"""Live queries: subscriptions answered by re-running their query, one poll per distinct query.

The upstream has no webhooks or streams, so the gateway polls, but once per (key hash, document,
variables) in the process however many subscribers share it, pushes a result only when it changed, and
re-runs at once what its own mutations may have changed. It knows GraphQL (it runs the schema) and
nothing of HTTP: the server's transports (``graphql-transport-ws``, GraphQL over SSE) feed it.

Example::

    live = LiveQueries(QueryRunner(schema, client, settings), interval=5.0, max_per_key=500)
    root = live.source(api_key)   # the root value of the subscription's execution
"""

from .bus import RedisBus
from .keys import NO_KEY, KeyHashFn, process_key_hasher
from .mailbox import Mailbox
from .poller import LiveObserver, LiveQuery, Subscriber
from .registry import (
    KeySource,
    LiveQueries,
    LiveQueryKey,
    ShuttingDown,
    TooManySubscriptions,
)
from .runner import QueryRunner

__all__ = [
    "NO_KEY",
    "KeyHashFn",
    "KeySource",
    "LiveObserver",
    "LiveQueries",
    "LiveQuery",
    "LiveQueryKey",
    "Mailbox",
    "QueryRunner",
    "RedisBus",
    "ShuttingDown",
    "Subscriber",
    "TooManySubscriptions",
    "process_key_hasher",
]
