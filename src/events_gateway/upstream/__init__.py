"""The upstream part: a typed async client of the Secoda Events REST API, its errors, filter builders and
resilience policies (retries, circuit breaker, the per-request deadline).

Everything the rest of the gateway may use is listed in ``__all__`` and imported from here, never from
the modules (an import contract in ``pyproject.toml`` holds to that). The ``_``-prefixed modules are
internal to the package itself (envelope parsing, the exception boundary, the aiohttp transport, URL
building, the circuit breaker and the deadline behind ``resilience``).
"""

from ._transport import default_transport
from .client import (
    CallObserver,
    Instrumentation,
    Page,
    Resource,
    UpstreamCall,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
)
from .errors import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamMisuse,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from .filters import (
    CATEGORY,
    EVENT,
    EVENT_PROPERTY,
    STABLE_SORT,
    Filter,
    Sort,
    and_,
    contains,
    exact,
    in_,
    is_set,
    not_,
    or_,
    sort,
)
from .resilience import BreakerPolicy, RetryPolicy, deadline_scope

__all__ = [
    "CATEGORY",
    "EVENT",
    "EVENT_PROPERTY",
    "STABLE_SORT",
    "BadRequest",
    "BreakerPolicy",
    "CallObserver",
    "Filter",
    "Forbidden",
    "Instrumentation",
    "NotFound",
    "Page",
    "RateLimited",
    "Resource",
    "RetryPolicy",
    "Sort",
    "Unauthenticated",
    "UpstreamCall",
    "UpstreamClient",
    "UpstreamError",
    "UpstreamMisuse",
    "UpstreamRejected",
    "UpstreamSession",
    "UpstreamSettings",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "UpstreamUnreachable",
    "and_",
    "contains",
    "deadline_scope",
    "default_transport",
    "exact",
    "in_",
    "is_set",
    "not_",
    "or_",
    "sort",
]
