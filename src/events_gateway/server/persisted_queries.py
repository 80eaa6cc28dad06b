"""Automatic persisted queries, as Apollo Client's persisted-queries link speaks them.

Why: a query's SHA-256 is 64 characters where a nested query is kilobytes, and a GET whose URL carries
only that hash and the variables is short enough for a CDN to cache. The exchange:

1. the client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`` and no
   query (POST body, or ``GET /graphql?extensions=<URL-encoded JSON>&variables=…``);
2. a known hash runs the stored query; an unknown one is answered, with HTTP 200 as Apollo Server does,
   by one error ``PersistedQueryNotFound`` whose ``extensions.code`` is ``PERSISTED_QUERY_NOT_FOUND``;
3. the client then sends the query with the same extension: the gateway checks that the hash is the
   query's (else ``provided sha does not match query``, code ``BAD_REQUEST``), runs it, and stores it once
   it has run, so a document that does not parse or validate never takes a place in the store.

A stored mutation is still refused over GET (405), like any mutation over GET. With persisted queries
turned off (``EVENTS_GATEWAY_PERSISTED_QUERIES=false``) a request carrying the extension gets
``PERSISTED_QUERY_NOT_SUPPORTED``, on which Apollo Client stops sending hashes and sends whole queries.

The store is a small async interface (:class:`PersistedQueryStore`), so a store shared by every replica
(Redis, memcached) can replace the in-memory one; since the hash names the document, any replica may
serve any entry and no entry is ever stale.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from cross_web import AsyncHTTPRequestAdapter
from graphql import GraphQLError
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult

from ..graph import ErrorCode, GraphContext
from ..observability import OperationRecord, current_request
from ..settings import Settings

__all__ = [
    "APQ_CUES",
    "MSG_HASH_MISMATCH",
    "MemoryQueryStore",
    "PersistedQueries",
    "PersistedQueriesView",
    "PersistedQueryStore",
    "Resolution",
    "sha256_hex",
]

#: Answers that tell a client to change what it sends, not that it erred: they travel with HTTP 200.
#: Their default messages (``graph/codes.py``) are Apollo's exact ones, which clients match on.
APQ_CUES = frozenset({ErrorCode.PERSISTED_QUERY_NOT_FOUND, ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED})
#: Apollo's exact message for a hash that is not the query's.
MSG_HASH_MISMATCH = "provided sha does not match query"
MSG_BAD_VERSION = "Unsupported persisted query version; send persistedQuery.version 1."
MSG_BAD_HASH = "persistedQuery.sha256Hash must be the query's SHA-256 as 64 hexadecimal characters."

#: What the lookup counted, for metrics: a hit, a miss, a query registered, or a request refused.
Outcome = Callable[[str], None]
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def sha256_hex(query: str) -> str:
    """The hash Apollo's protocol names a document by: SHA-256 of its UTF-8 bytes, lower-case hex."""
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueryStore(Protocol):
    """Where persisted documents live, by hash; a shared store (e.g. Redis) implements the same two calls."""

    async def get(self, sha256_hash: str) -> str | None:
        """The document stored under ``sha256_hash``, or ``None``."""
        ...

    async def set(self, sha256_hash: str, query: str) -> None:
        """Store ``query`` under its ``sha256_hash`` (the caller has checked that they match)."""
        ...


class MemoryQueryStore:
    """A per-process store bounded by entries and by UTF-8 bytes; the least recently used go first.

    A document larger than the whole byte budget is not stored (its client just keeps sending it whole).
    """

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        if max_entries <= 0 or max_bytes <= 0:
            raise ValueError("max_entries and max_bytes must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """UTF-8 bytes of every stored document."""
        return self._bytes

    async def get(self, sha256_hash: str) -> str | None:
        query = self._entries.get(sha256_hash)
        if query is not None:
            self._entries.move_to_end(sha256_hash)
        return query

    async def set(self, sha256_hash: str, query: str) -> None:
        size = len(query.encode())
        if size > self.max_bytes:
            return
        old = self._entries.pop(sha256_hash, None)
        if old is not None:
            self._bytes -= len(old.encode())
        self._entries[sha256_hash] = query
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.encode())


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a request's ``persistedQuery`` extension comes to.

    Attributes:
        query: the document to run (the request's own, or the stored one).
        register: the hash to store ``query`` under once it has run; ``None`` when nothing is to be stored.
        error: the GraphQL error to answer with instead of running anything.
    """

    query: str | None
    register: str | None = None
    error: GraphQLError | None = None


def _error(code: ErrorCode, message: str | None = None) -> GraphQLError:
    return GraphQLError(code.message if message is None else message, extensions={"code": code})


class PersistedQueries:
    """The protocol's decisions, free of HTTP: given a request's query and extensions, what to run."""

    def __init__(
        self, store: PersistedQueryStore, *, enabled: bool = True, on_outcome: Outcome | None = None
    ):
        self.store = store
        self.enabled = enabled
        self._on_outcome = on_outcome

    @classmethod
    def from_settings(cls, settings: Settings, *, on_outcome: Outcome | None = None) -> PersistedQueries:
        store = MemoryQueryStore(
            max_entries=settings.persisted_queries_max_entries,
            max_bytes=settings.persisted_queries_max_bytes,
        )
        return cls(store, enabled=settings.persisted_queries, on_outcome=on_outcome)

    def _count(self, outcome: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolution:
        """The document ``query``/``extensions`` stand for, or the error to answer with."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return Resolution(query)
        if not self.enabled:
            self._count("rejected")
            return Resolution(None, error=_error(ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED))
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            self._count("rejected")
            return Resolution(None, error=_error(ErrorCode.BAD_REQUEST, MSG_BAD_VERSION))
        sha = persisted.get("sha256Hash")
        if not isinstance(sha, str) or _SHA256_HEX.fullmatch(sha) is None:
            self._count("rejected")
            return Resolution(None, error=_error(ErrorCode.BAD_REQUEST, MSG_BAD_HASH))
        sha = sha.lower()
        if query is None:
            stored = await self.store.get(sha)
            if stored is None:
                self._count("miss")
                return Resolution(None, error=_error(ErrorCode.PERSISTED_QUERY_NOT_FOUND))
            self._count("hit")
            return Resolution(stored)
        if sha256_hex(query) != sha:
            self._count("rejected")
            return Resolution(None, error=_error(ErrorCode.BAD_REQUEST, MSG_HASH_MISMATCH))
        return Resolution(query, register=sha)

    async def register(self, sha256_hash: str, query: str) -> None:
        await self.store.set(sha256_hash, query)
        self._count("registered")


def _ran(result: ExecutionResult) -> bool:
    """Whether execution started, so the document parsed and validated: data came back, or every error
    belongs to a field (errors from parsing, validation and limits carry no path)."""
    if result.data is not None:
        return True
    return bool(result.errors) and all(error.path is not None for error in result.errors or ())


class PersistedQueriesView(GraphQLView[GraphContext, None]):
    """The view's side of the protocol: resolve each operation's hash before it runs, store after.

    ``persisted_queries`` is set by the app factory; left ``None``, the view ignores the extension
    entirely (as Strawberry alone does).
    """

    persisted_queries: PersistedQueries | None = None

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET carrying extensions (a persisted query's hash) is an API call, even from a client that
        # accepts */* as browsers' fetch does; only a bare GET is a person wanting GraphiQL.
        if request.query_params.get("extensions"):
            return False
        return super().should_render_graphql_ide(request)

    async def execute_single(
        self,
        request: Any,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: GraphContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        apq = self.persisted_queries
        resolution = None
        if apq is not None:
            resolution = await apq.resolve(request_data.query, request_data.extensions)
            if resolution.error is not None:
                record = current_request()
                if record is not None:
                    code = str((resolution.error.extensions or {}).get("code", ErrorCode.BAD_REQUEST))
                    record.operations.append(OperationRecord(request_data.operation_name, code))
                # Never cached: a miss answered from a cache would hide the document once it is stored.
                sub_response.headers["Cache-Control"] = "no-store"
                return ExecutionResult(data=None, errors=[resolution.error])
            if resolution.query is not request_data.query:
                request_data = replace(request_data, query=resolution.query)
        result = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        if apq is not None and resolution is not None and resolution.register and _ran(result):
            assert resolution.query is not None  # a registration always carries its document
            await apq.register(resolution.register, resolution.query)
        return result
