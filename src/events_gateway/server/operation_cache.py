"""Whole query results across requests: an identical query of the same key, asked again while its answer
is fresh, is answered without executing (the warm 1,105-object tree in a few milliseconds).

The answer's ``data`` is filed in the process's cache (``events_gateway.cache``, the one that holds the
upstream answers) under the caller's key hash and ``OP <operation name> <sha-256 of the document>
<sha-256 of the variables>``. It depends on ``OPERATION_DEPS``, every kind's lists, which every write
through the gateway bumps: any write of the caller's, on any worker or replica, makes the next identical
query execute again. Its age is that of the oldest upstream answer it was built from, so it is never
served as fresh for longer than those parts would have been.

Not filed: mutations, the operations of a batch (they share one set of loaders), answers with errors,
requests without a key. ``Cache-Control: no-cache`` executes again and its GETs ask the upstream; the
answers are filed anew. An answer served past the TTL (while a background refresh runs, or while the
upstream fails), or built from such an upstream answer, says so: ``extensions.cache = {"stale": true,
"age": <seconds>}``. A caller who asked for the call plan (``X-Upstream-Plan``) gets one that says the
answer came from here: no calls, ``operationCache: {"status": "hit", "ageMs": …}``.

The filed ``data`` is the JSON the response carries, so a hit is written out as it was stored
(``orjson.Fragment``), never decoded and encoded again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any, cast

import orjson
from aiohttp import hdrs, web
from cross_web import AsyncHTTPRequestAdapter
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from ..cache import CacheResult, CacheStatus, Fetched
from ..graph import GraphContext, MissingKey
from ..observability import OperationRecord, current_request
from ..upstream import OPERATION_DEPS, UpstreamSession
from .call_plan import build_plan
from .keys import CACHE_KEY, METRICS_KEY, SETTINGS_KEY

__all__ = [
    "FRESHNESS_KEY",
    "Freshness",
    "OperationCacheView",
    "operation_request",
    "reads_through",
    "selects_mutation",
]

#: The statuses of an answer served past its TTL.
STALE = frozenset({CacheStatus.STALE, CacheStatus.STALE_IF_ERROR})


@dataclass(frozen=True, slots=True)
class Freshness:
    """How old a GET's answer is, for its ``Cache-Control: max-age`` (``caching.py``)."""

    age: float
    stale: bool


#: Set on a request whose answer came through the cache without errors.
FRESHNESS_KEY = web.RequestKey("freshness", Freshness)


def reads_through(headers: Mapping[str, str]) -> bool:
    """Whether the caller asked not to be answered from a cache: ``Cache-Control: no-cache`` (or HTTP/1.0's
    ``Pragma: no-cache`` without a ``Cache-Control``)."""
    control = headers.get(hdrs.CACHE_CONTROL)
    if control is None:
        return headers.get(hdrs.PRAGMA, "").strip().lower() == "no-cache"
    return any(part.split("=", 1)[0].strip().lower() == "no-cache" for part in control.split(","))


def operation_request(query: str, variables: Mapping[str, Any] | None, operation_name: str | None) -> str:
    """The name an operation's answer is filed under (beside the key hash): equal for equal requests."""
    document = hashlib.sha256(query.encode()).hexdigest()
    values = hashlib.sha256(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"OP {operation_name or '-'} {document} {values}"


def selects_mutation(query: str, operation_name: str | None, *, max_tokens: int) -> bool:
    """Whether ``query`` run with ``operation_name`` is a mutation.

    A document over the token limit is not parsed here (the limits refuse it when it runs)."""
    return _operation(query, operation_name, max_tokens)[0] is OperationType.MUTATION


@lru_cache(maxsize=256)
def _operation(
    query: str, operation_name: str | None, max_tokens: int
) -> tuple[OperationType | None, str | None]:
    """The type and name of the operation ``query`` runs with ``operation_name`` (documents repeat: kept
    per text); ``(None, None)`` for a document that does not parse or names no such operation."""
    try:
        operation = get_operation_ast(parse(query, no_location=True, max_tokens=max_tokens), operation_name)
    except GraphQLError:
        return None, None
    if operation is None:
        return None, None
    return operation.operation, operation.name.value if operation.name is not None else None


class _NotFiled(Exception):
    """The operation ran, but its answer has errors: it is not filed."""


class OperationCacheView(GraphQLView[GraphContext, None]):
    """Strawberry's view with each single query answered from the operation cache when it may be."""

    async def execute_single(
        self,
        request: web.Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: web.Response,
        context: GraphContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        execute = partial(
            super().execute_single,
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        cache = request.app.get(CACHE_KEY)
        session = _session_of(context)
        query = request_data.query
        max_tokens = request.app[SETTINGS_KEY].max_tokens
        if (
            cache is None
            or not cache.enabled
            or session is None
            or session.key_hash is None
            or context.batched
            or query is None
            or _operation(query, request_data.operation_name, max_tokens)[0] is not OperationType.QUERY
        ):
            return _noted(request, await execute(), session)
        ran: list[ExecutionResult] = []
        answered = False

        async def run() -> Fetched:
            if answered:  # a background refresh of the answer served stale (the cache starts it in a task
                # of its own, after this request has its answer): its parts are fetched anew
                session.read_through = True
            result = await execute()
            ran.append(result)
            if result.errors or result.data is None:
                raise _NotFiled
            return Fetched(orjson.dumps(result.data), session.oldest_answer)

        name = operation_request(query, request_data.variables, request_data.operation_name)
        try:
            found = await cache.get_or_fetch(
                session.key_hash, name, OPERATION_DEPS, run, read_through=reads_through(request.headers)
            )
        except _NotFiled:
            # Its errors are its own (or, when this request joined another's run, run it here).
            return _noted(request, ran[0] if ran else await execute(), session)
        answered = True
        request.app[METRICS_KEY].record_operation_cache(str(found.status))
        if ran:  # executed here: its own extensions (the call plan), its data as filed
            result = ExecutionResult(_fragment(found.value), None, dict(ran[0].extensions or {}))
        else:
            result = _served(_operation(query, request_data.operation_name, max_tokens)[1], found)
        stale = found.status in STALE or (not found.from_cache and session.stale)
        if stale:
            assert result.extensions is not None
            result.extensions["cache"] = {"stale": True, "age": round(found.age, 3)}
        request[FRESHNESS_KEY] = Freshness(found.age, stale)
        return result


def _session_of(context: GraphContext) -> UpstreamSession | None:
    try:
        return context.loaders.session
    except MissingKey:
        return None


def _fragment(value: bytes) -> Any:
    """Filed JSON, written into the response as it is (``ExecutionResult.data`` takes it as a dict)."""
    return cast(Any, orjson.Fragment(value))


def _served(operation_name: str | None, found: CacheResult) -> ExecutionResult:
    """An answer that did not execute here: noted for the access log and metrics as the observer would,
    with a call plan that says where it came from when one was asked for."""
    extensions: dict[str, Any] = {}
    record = current_request()
    if record is not None:
        record.operations.append(OperationRecord(operation_name, "ok"))
        if record.plan_requested:
            status = {"status": str(found.status), "ageMs": round(found.age * 1000, 3)}
            extensions["upstream"] = {**build_plan([]), "operationCache": status}
    return ExecutionResult(_fragment(found.value), None, extensions)


def _noted(request: web.Request, result: ExecutionResult, session: UpstreamSession | None) -> ExecutionResult:
    """An executed answer that was not filed: marked stale if the cache served a stale part of it."""
    if session is None or session.key_hash is None:
        return result
    if session.stale:
        extensions = dict(result.extensions or {})
        extensions["cache"] = {"stale": True, "age": round(session.oldest_answer, 3)}
        result = replace(result, extensions=extensions)
    if not result.errors:
        request[FRESHNESS_KEY] = Freshness(session.oldest_answer, session.stale)
    return result
