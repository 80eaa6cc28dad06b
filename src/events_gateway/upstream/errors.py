"""Failures of the upstream REST API, one class per kind a client can act on.

The tree, and the GraphQL ``extensions.code`` each leaf maps to at the gateway's edge::

    UpstreamError                       (root; never raised itself)
    ├── UpstreamUnreachable             the request got no usable answer
    │   ├── UpstreamTimeout             → UPSTREAM_TIMEOUT
    │   └── UpstreamUnavailable         → UPSTREAM_UNAVAILABLE (connection refused, 5xx, open circuit,
    │                                     a body that is not the JSON we expect)
    └── UpstreamRejected                the upstream answered, and said no
        ├── Unauthenticated   401       → UNAUTHENTICATED
        ├── Forbidden         403       → FORBIDDEN
        ├── NotFound          404       → NOT_FOUND
        ├── BadRequest        400/422   → BAD_USER_INPUT (field messages kept in ``field_errors``)
        └── RateLimited       429       → RATE_LIMITED (``retry_after`` in seconds, when sent)

    UpstreamMisuse (a RuntimeError outside the tree)  the gateway itself built a request httpx refused:
                                        a bug, masked as INTERNAL_SERVER_ERROR at the edge

Messages are ours, never the upstream's body or headers, so they are safe to show a client; the status
code and route are kept as attributes for logs and metrics.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """Root of every failure the upstream client raises."""

    code: str = "UPSTREAM_UNAVAILABLE"

    def __init__(self, message: str, *, route: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.route = route
        self.status = status


class UpstreamUnreachable(UpstreamError):
    """The request got no usable answer: nothing the caller did wrong."""


class UpstreamTimeout(UpstreamUnreachable):
    code = "UPSTREAM_TIMEOUT"


class UpstreamUnavailable(UpstreamUnreachable):
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamRejected(UpstreamError):
    """The upstream answered with a 4xx: the request, key or rate is at fault."""


class Unauthenticated(UpstreamRejected):
    code = "UNAUTHENTICATED"


class Forbidden(UpstreamRejected):
    code = "FORBIDDEN"


class NotFound(UpstreamRejected):
    code = "NOT_FOUND"


class BadRequest(UpstreamRejected):
    """400/422; ``field_errors`` holds the upstream's per-field messages (DRF style)."""

    code = "BAD_USER_INPUT"

    def __init__(
        self,
        message: str,
        *,
        field_errors: dict[str, list[str]] | None = None,
        route: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, route=route, status=status)
        self.field_errors: dict[str, list[str]] = field_errors or {}


class RateLimited(UpstreamRejected):
    code = "RATE_LIMITED"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        route: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, route=route, status=status)
        self.retry_after = retry_after


class UpstreamMisuse(RuntimeError):
    """The gateway built a request the HTTP client refused (a bug, not an upstream failure)."""
