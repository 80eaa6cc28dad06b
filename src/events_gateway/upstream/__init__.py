"""The upstream part: a typed async client of the Secoda Events REST API, its errors, filter builders and
the paging engine that reads whole lists and windows of them.

Everything the rest of the gateway may use is listed in ``__all__``; the ``_``-prefixed modules are
internal (envelope parsing, the exception boundary, the aiohttp transport).
"""

from ._transport import default_transport
from .client import (
    CallObserver,
    Page,
    PageSizeMemo,
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
from .paging import CapReached, PageFetcher, Pager, PagingLimits

__all__ = [
    "CATEGORY",
    "EVENT",
    "EVENT_PROPERTY",
    "STABLE_SORT",
    "BadRequest",
    "CallObserver",
    "CapReached",
    "Filter",
    "Forbidden",
    "NotFound",
    "Page",
    "PageFetcher",
    "PageSizeMemo",
    "Pager",
    "PagingLimits",
    "RateLimited",
    "Resource",
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
    "default_transport",
    "exact",
    "in_",
    "is_set",
    "not_",
    "or_",
    "sort",
]
