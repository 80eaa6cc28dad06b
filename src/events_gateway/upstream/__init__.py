"""The upstream part: a typed async client of the Secoda Events REST API, its errors, filter builders and
resilience policies (retries, circuit breaker, the per-request deadline) and the paging engine that reads
whole lists and windows of them.

Everything the rest of the gateway may use is listed in ``__all__`` and imported from here, never from
the modules (an import contract in ``pyproject.toml`` holds to that). The ``_``-prefixed modules are
internal to the package itself (envelope parsing, the exception boundary, the aiohttp transport, URL
building, the circuit breaker and the deadline behind ``resilience``).
"""

from ._transport import default_transport
from .client import (
    BASE_URL_RULE,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT,
    CallObserver,
    Instrumentation,
    Page,
    PageSizeMemo,
    Resource,
    UpstreamCall,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    is_base_url,
)
from .counts import KeyCounts, ListCounts
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
from .paging import CapReached, PageFetcher, Pager, PagingLimits
from .resilience import (
    DEFAULT_COOLDOWN,
    DEFAULT_FAILURE_THRESHOLD,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_REQUEST_DEADLINE,
    BreakerPolicy,
    RetryPolicy,
    deadline_scope,
)

__all__ = [
    "BASE_URL_RULE",
    "CATEGORY",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_COOLDOWN",
    "DEFAULT_FAILURE_THRESHOLD",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_REQUEST_DEADLINE",
    "DEFAULT_TIMEOUT",
    "EVENT",
    "EVENT_PROPERTY",
    "STABLE_SORT",
    "BadRequest",
    "BreakerPolicy",
    "CallObserver",
    "CapReached",
    "Filter",
    "Forbidden",
    "Instrumentation",
    "KeyCounts",
    "ListCounts",
    "NotFound",
    "Page",
    "PageFetcher",
    "PageSizeMemo",
    "Pager",
    "PagingLimits",
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
    "is_base_url",
    "is_set",
    "not_",
    "or_",
    "sort",
]
