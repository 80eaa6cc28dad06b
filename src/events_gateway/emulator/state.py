"""Run-time state beside the store: the live config, request counters, write windows and the fault draw.

Kept apart from the SQLite data on purpose: resetting counters or limits never touches objects, and the
test aids can change the config of a running emulator without a restart.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from .settings import FAULT_KINDS, EmulatorSettings, EmulatorSettingsError, FaultRule

#: The config keys ``PATCH /_emulator/config`` may change.
RUNTIME_KEYS = (
    "latency_ms",
    "fault_rate",
    "faults",
    "fault_seed",
    "stall_seconds",
    "write_limit",
    "page_size",
    "catalog_cap",
    "fault_rules",
)
#: Not a setting but a queue: ``PATCH /_emulator/config`` with ``{"fail_next": ["500", ...]}`` makes the
#: next ``/api/v1`` requests fail with exactly these kinds, in order, before any random draw.
FAIL_NEXT = "fail_next"
#: At most this many calls are kept for ``/_emulator/stats``; older ones drop off (counts stay exact).
MAX_RECORDED_CALLS = 100_000


@dataclass(frozen=True, slots=True)
class CallRecord:
    route: str
    status: int
    start: float
    end: float


def count_rounds(calls: list[CallRecord]) -> int:
    """Length of the longest chain of calls in which each one started after the previous one ended.

    With added latency, this is the number of dependent round trips a client made.
    """
    by_end = sorted(calls, key=lambda call: call.end)
    ends = [call.end for call in by_end]
    best_upto: list[int] = []  # best_upto[i]: longest chain ending at one of by_end[0..i]
    for call in by_end:
        before = bisect.bisect_left(ends, call.start)  # calls that ended strictly before this one started
        chain = 1 + (best_upto[before - 1] if before else 0)
        best_upto.append(max(chain, best_upto[-1] if best_upto else 0))
    return best_upto[-1] if best_upto else 0


class Stats:
    def __init__(self) -> None:
        self.total = 0
        self.by_route: Counter[str] = Counter()
        self.calls: deque[CallRecord] = deque(maxlen=MAX_RECORDED_CALLS)

    def record(self, call: CallRecord) -> None:
        self.total += 1
        self.by_route[call.route] += 1
        self.calls.append(call)

    def snapshot(self) -> dict[str, Any]:
        calls = list(self.calls)
        return {
            "total": self.total,
            "by_route": dict(self.by_route),
            "rounds": count_rounds(calls),
            "calls": [asdict(call) for call in calls],
        }


class WriteLimiter:
    """A sliding window of write times per API key."""

    def __init__(self) -> None:
        self._windows: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self._windows.clear()

    def admit(self, key: str, now: float, limit: int, window: float) -> int | None:
        """Record a write and return ``None``, or return the whole seconds to wait when over the limit."""
        times = self._windows.setdefault(key, deque())
        while times and times[0] <= now - window:
            times.popleft()
        if len(times) >= limit:
            return max(1, math.ceil(times[0] + window - now))
        times.append(now)
        return None


class EmulatorState:
    """Everything a running emulator changes besides its data."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.config = settings
        self.stats = Stats()
        self.limiter = WriteLimiter()
        self._rng = random.Random(settings.fault_seed)
        #: Faults queued for the next requests, one each, served before the random draw.
        self.fail_next: deque[str] = deque()
        #: Set when the server shuts down, so stalled answers end at once.
        self.closing = asyncio.Event()

    def ruled_fault(self, route: str, query: Mapping[str, str]) -> str | None:
        """The fault a rule answers this request with, or ``None``; a ruled request draws nothing."""
        for rule in self.config.fault_rules:
            if rule.matches(route, query):
                return rule.fault
        return None

    def draw_fault(self) -> str | None:
        """The kind of fault to inject into the next request, or ``None``; repeatable for a given seed."""
        if self.fail_next:
            return self.fail_next.popleft()
        rate = self.config.fault_rate
        if rate <= 0:
            return None
        if self._rng.random() >= rate:
            return None
        return self._rng.choice(self.config.faults)

    def reset(self) -> None:
        self.stats = Stats()
        self.limiter.reset()
        self._rng = random.Random(self.config.fault_seed)

    def configure(self, changes: dict[str, Any]) -> EmulatorSettings:
        """Apply run-time changes (validated like the settings themselves); raises on an unknown key.

        ``fail_next`` (a list of fault kinds) replaces the queue of faults for the next requests.
        """
        changes = dict(changes)
        queued = _fault_queue(changes.pop(FAIL_NEXT)) if FAIL_NEXT in changes else None
        unknown = sorted(set(changes) - set(RUNTIME_KEYS))
        if unknown:
            raise EmulatorSettingsError(f"cannot change {', '.join(unknown)} at run time")
        try:
            self.config = replace(self.config, **changes)
        except TypeError as exc:
            raise EmulatorSettingsError(str(exc)) from None
        if {"fault_seed", "fault_rate", "faults"} & set(changes):
            self._rng = random.Random(self.config.fault_seed)
        if queued is not None:
            self.fail_next = deque(queued)
        return self.config

    def config_view(self) -> dict[str, Any]:
        view = {name: _jsonable(getattr(self.config, name)) for name in RUNTIME_KEYS}
        view[FAIL_NEXT] = list(self.fail_next)
        return view


def _fault_queue(value: Any) -> list[str]:
    """``fail_next`` checked before anything changes: a list of fault kinds."""
    if not isinstance(value, list) or not all(isinstance(kind, str) for kind in value):
        raise EmulatorSettingsError("fail_next must be a list of fault kinds")
    unknown = [kind for kind in value if kind not in FAULT_KINDS]
    if unknown:
        raise EmulatorSettingsError(f"fail_next must hold kinds among {', '.join(FAULT_KINDS)}")
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    return value.view() if isinstance(value, FaultRule) else value
