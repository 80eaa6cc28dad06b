"""The emulator's settings: one frozen value object, validated once, with a named default per field.

The run-time knobs of the admin routes (latency, faults, write limit, page size) are changed by making a
new value with :func:`dataclasses.replace`, so the same validation guards both paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

#: The key of the demo workspace. UUID-like, as Secoda's own keys are; printed by ``events-gateway emulator``.
DEMO_API_KEY = "d736dd50-5d06-4c1e-9a3b-2f6e8c0d4a17"
DEMO_WORKSPACE = "demo"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
#: Undocumented upstream; the docs' sample (315 items on 7 pages) fits about 50.
DEFAULT_PAGE_SIZE = 50
#: List Resources serves at most this many results across all its pages.
DEFAULT_CATALOG_CAP = 10_000
#: Documented limit: 30 POST/PUT/PATCH calls a minute.
DEFAULT_WRITE_LIMIT = 30
DEFAULT_WRITE_WINDOW = 60.0
#: Long enough that any sane client timeout fires first.
DEFAULT_STALL_SECONDS = 30.0
DEFAULT_SCALE = (5, 20, 10)

Seed = Literal["demo", "scale", "none"]
SEEDS: tuple[Seed, ...] = ("demo", "scale", "none")

#: Kinds of injected fault: an error status, a stalled answer, or a 200 whose body is not JSON.
FAULT_KINDS = ("500", "503", "429", "stall", "malformed")
DEFAULT_FAULTS: tuple[str, ...] = ("500", "503")


class EmulatorSettingsError(ValueError):
    """A setting has a value the emulator cannot run with; the message names the setting."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Every ``/api/v1`` request to one route whose query holds some parameters is answered with a fault:
    a deterministic failure of exactly one call, e.g. one page of a batched list.

    Attributes:
        route: the route label, as ``/_emulator/stats`` names it (``GET /resource/catalog``).
        params: query parameters the request must carry with exactly these values (``{"page": "3"}``).
        fault: the kind answered, one of :data:`FAULT_KINDS`.

    Example, through the test aids: ``PATCH /_emulator/config`` with
    ``{"fault_rules": [{"route": "GET /resource/catalog", "params": {"page": "3"}, "fault": "500"}]}``.
    """

    route: str
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    fault: str = "500"

    @classmethod
    def of(cls, value: Any) -> FaultRule:
        """A rule from itself or from its JSON form; ``EmulatorSettingsError`` saying what is wrong."""
        if isinstance(value, FaultRule):
            return value
        if not isinstance(value, Mapping) or set(value) - {"route", "params", "fault"}:
            raise EmulatorSettingsError(
                'fault_rules must be objects with "route", and optionally "params" and "fault"'
            )
        route, params, fault = value.get("route"), value.get("params", {}), value.get("fault", "500")
        if not isinstance(route, str) or not route:
            raise EmulatorSettingsError('a fault rule needs a "route", e.g. "GET /resource/catalog"')
        if not isinstance(params, Mapping) or not all(
            isinstance(name, str) and isinstance(text, str) for name, text in params.items()
        ):
            raise EmulatorSettingsError('a fault rule\'s "params" maps parameter names to string values')
        if fault not in FAULT_KINDS:
            raise EmulatorSettingsError(f"a fault rule's fault must be one of {', '.join(FAULT_KINDS)}")
        return cls(route, MappingProxyType(dict(params)), fault)

    def matches(self, route: str, query: Mapping[str, str]) -> bool:
        return route == self.route and all(query.get(name) == text for name, text in self.params.items())

    def view(self) -> dict[str, Any]:
        """The rule in its JSON form."""
        return {"route": self.route, "params": dict(self.params), "fault": self.fault}


def _default_keys() -> Mapping[str, str]:
    return MappingProxyType({DEMO_API_KEY: DEMO_WORKSPACE})


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    """Everything the emulator can be told.

    Attributes:
        api_keys: API key → workspace name. A key sees and changes only its workspace's objects.
        db_path: SQLite file (state survives restarts); ``None`` keeps everything in memory.
        seed: data put into each workspace that has none yet: ``demo``, ``scale`` or ``none``.
        scale: categories × events per category × properties per event, for ``seed="scale"``.
        page_size: results per page of every list.
        catalog_cap: List Resources serves at most this many results for one filter.
        write_limit: POST/PATCH/DELETE calls allowed per key in ``write_window`` seconds; ``None`` or 0 = off.
        write_window: length of the write-limit window, in seconds.
        admin: serve the test aids under ``/_emulator`` (stats, reset, run-time config).
        latency_ms: added before answering each ``/api/v1`` request.
        fault_rate: share (0..1) of ``/api/v1`` requests answered with an injected fault.
        faults: kinds drawn from when a fault is injected (subset of :data:`FAULT_KINDS`).
        fault_seed: seeds the fault draw, so a run's faults repeat exactly.
        stall_seconds: how long a ``stall`` fault waits before answering 504.
        fault_rules: requests always answered with a fault (:class:`FaultRule`), whatever ``fault_rate``.
    """

    api_keys: Mapping[str, str] = field(default_factory=_default_keys, repr=False)
    db_path: Path | None = None
    seed: Seed = "demo"
    scale: tuple[int, int, int] = DEFAULT_SCALE
    page_size: int = DEFAULT_PAGE_SIZE
    catalog_cap: int = DEFAULT_CATALOG_CAP
    write_limit: int | None = DEFAULT_WRITE_LIMIT
    write_window: float = DEFAULT_WRITE_WINDOW
    admin: bool = False
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = DEFAULT_FAULTS
    fault_seed: int = 0
    stall_seconds: float = DEFAULT_STALL_SECONDS
    fault_rules: tuple[FaultRule, ...] = ()

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise EmulatorSettingsError("api_keys must map at least one key to a workspace")
        for key, workspace in self.api_keys.items():
            if not key or not workspace:
                raise EmulatorSettingsError("api_keys must hold non-empty keys and workspace names")
        if self.db_path is not None and not isinstance(self.db_path, Path):
            object.__setattr__(self, "db_path", Path(self.db_path))
        if self.seed not in SEEDS:
            raise EmulatorSettingsError(f"seed must be one of {', '.join(SEEDS)}")
        if len(self.scale) != 3 or any(not isinstance(n, int) or n < 0 for n in self.scale):
            raise EmulatorSettingsError(
                "scale must be three non-negative integers (categories, events, properties)"
            )
        object.__setattr__(self, "scale", tuple(self.scale))
        if self.page_size < 1:
            raise EmulatorSettingsError("page_size must be at least 1")
        if self.catalog_cap < 1:
            raise EmulatorSettingsError("catalog_cap must be at least 1")
        if self.write_limit is not None and self.write_limit < 0:
            raise EmulatorSettingsError("write_limit must be None, 0 (off) or positive")
        if not self.write_window > 0:
            raise EmulatorSettingsError("write_window must be positive")
        if not (math.isfinite(self.latency_ms) and self.latency_ms >= 0):
            raise EmulatorSettingsError("latency_ms must be a non-negative number")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise EmulatorSettingsError("fault_rate must be between 0 and 1")
        object.__setattr__(self, "faults", tuple(self.faults))
        unknown = [kind for kind in self.faults if kind not in FAULT_KINDS]
        if unknown:
            raise EmulatorSettingsError(
                f"faults must be among {', '.join(FAULT_KINDS)}; got {', '.join(unknown)}"
            )
        if self.fault_rate > 0 and not self.faults:
            raise EmulatorSettingsError("faults must name at least one kind when fault_rate is above 0")
        if not self.stall_seconds >= 0:
            raise EmulatorSettingsError("stall_seconds must be non-negative")
        if isinstance(self.fault_rules, str | Mapping):
            raise EmulatorSettingsError("fault_rules must be a list of rules")
        object.__setattr__(self, "fault_rules", tuple(FaultRule.of(rule) for rule in self.fault_rules))
