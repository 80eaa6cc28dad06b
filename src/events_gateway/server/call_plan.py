"""The upstream call plan: on request, a response lists the REST calls it cost, in ``extensions.upstream``.

Why: the gateway's promise is "the fewest REST calls the upstream allows", and this lets a frontend
developer see it per query in GraphiQL (add the header ``X-Upstream-Plan: 1``) instead of trusting it.
Off by default on a real upstream, since it shows routes and timings to any caller; on by default with
the embedded emulator (``EVENTS_GATEWAY_UPSTREAM_PLAN=auto``, see ``settings.py``).

The plan::

    "extensions": {"upstream": {
        "calls": [{"route": "GET /resource/catalog", "status": 200, "ms": 3.1, "startMs": 0.4,
                   "batchSize": 10, "round": 2},
                  {"route": "GET /event/category", "status": 200, "ms": 0.1, "startMs": 0.0,
                   "round": 0, "cache": "hit", "ageMs": 1520.0}, …],
        "totalCalls": 7, "rounds": 3, "totalMs": 14.2, "wallMs": 6.0, "failedCalls": 0, "cacheHits": 1}}

``round`` is the length of the longest chain of calls, each starting after the previous one ended, that
ends with this call; ``rounds`` is the longest such chain overall: the number of sequential round trips
the response waited for, whatever ran concurrently beside them. ``startMs`` counts from the first call.

A GET the cache answered is listed with ``cache`` (``hit``, ``stale`` or ``stale_if_error``), the
answer's age and ``round`` 0: it reached no upstream, so it counts in ``cacheHits``, not in
``totalCalls``, ``rounds``, ``totalMs`` or ``failedCalls``. A whole answer served from the operation
cache has no calls at all; its plan says so in ``operationCache`` (``status``, ``ageMs``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from strawberry.extensions import SchemaExtension

from ..observability import current_request
from ..settings import Settings
from ..upstream import UpstreamCall

__all__ = [
    "PLAN_HEADER",
    "CallPlanExtension",
    "build_plan",
    "call_plan_extensions",
    "exchanges",
    "plan_allowed",
    "rounds_of",
    "wants_plan",
]

#: The request header asking for the plan; any of these values switches it on.
PLAN_HEADER = "X-Upstream-Plan"
_TRUE = frozenset({"1", "true", "yes", "on"})


def plan_allowed(settings: Settings) -> bool:
    """Whether callers may ask for the plan (``auto`` is resolved to ``on`` by ``serve`` when it embeds
    the emulator, so here it means off)."""
    return settings.upstream_plan == "on"


def wants_plan(header: str | None) -> bool:
    return header is not None and header.strip().lower() in _TRUE


def rounds_of(calls: Sequence[UpstreamCall]) -> list[int]:
    """For each call, the longest chain of non-overlapping calls ending with it (1 for a first call).

    O(n log n): calls are taken in order of start; a Fenwick tree over end times gives the best chain
    among calls that ended by then.
    """
    if not calls:
        return []
    ends = sorted({call.ended for call in calls})
    tree = [0] * (len(ends) + 1)

    def best_until(time: float) -> int:  # max chain among calls with ended <= time
        index = bisect.bisect_right(ends, time)
        best = 0
        while index > 0:
            best = max(best, tree[index])
            index -= index & -index
        return best

    def record(ended: float, chain: int) -> None:
        index = bisect.bisect_left(ends, ended) + 1
        while index <= len(ends):
            tree[index] = max(tree[index], chain)
            index += index & -index

    chains = [0] * len(calls)
    for position in sorted(range(len(calls)), key=lambda i: calls[i].started):
        chains[position] = best_until(calls[position].started) + 1
        record(calls[position].ended, chains[position])
    return chains


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def exchanges(calls: Sequence[UpstreamCall]) -> list[UpstreamCall]:
    """The calls that reached the upstream (those the cache answered left out)."""
    return [call for call in calls if call.cached is None]


def build_plan(calls: Sequence[UpstreamCall]) -> dict[str, Any]:
    """The ``extensions.upstream`` object for ``calls`` (in the order they started)."""
    ordered = sorted(calls, key=lambda call: call.started)
    sent = exchanges(ordered)
    chains = dict(zip(map(id, sent), rounds_of(sent), strict=True))
    origin = ordered[0].started if ordered else 0.0
    listed = []
    for call in ordered:
        entry: dict[str, Any] = {
            "route": call.route,
            "status": call.status,
            "ms": _ms(call.ended - call.started),
            "startMs": _ms(call.started - origin),
            "round": chains.get(id(call), 0),
        }
        if call.batch_size is not None:
            entry["batchSize"] = call.batch_size
        if call.cached is not None:
            entry["cache"] = call.cached
            entry["ageMs"] = _ms(call.age)
        listed.append(entry)
    return {
        "calls": listed,
        "totalCalls": len(sent),
        "rounds": max(chains.values(), default=0),
        "totalMs": _ms(sum(call.ended - call.started for call in sent)),
        "wallMs": _ms(max((call.ended for call in ordered), default=origin) - origin),
        "failedCalls": sum(1 for call in sent if call.status is None or call.status >= 400),
        "cacheHits": len(ordered) - len(sent),
    }


class CallPlanExtension(SchemaExtension):
    """Adds ``extensions.upstream`` to the result when the current request asked for it and may."""

    def get_results(self) -> dict[str, Any]:
        record = current_request()
        if record is None or not record.plan_requested:
            return {}
        calls = getattr(self.execution_context.context, "calls", None)
        return {"upstream": build_plan(calls if isinstance(calls, list) else [])}


def call_plan_extensions(settings: Settings) -> list[type[SchemaExtension]]:
    """What ``create_app`` adds to the schema: the extension when the plan is allowed, else nothing."""
    return [CallPlanExtension] if plan_allowed(settings) else []
