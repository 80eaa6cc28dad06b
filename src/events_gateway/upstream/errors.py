"""Failures of the upstream REST API, one class per kind a caller can act on.

The tree::

    UpstreamError                       (root; never raised itself)
    ├── UpstreamUnreachable             the request got no usable answer
    │   ├── UpstreamTimeout             no answer in time (or the request's deadline ran out)
    │   └── UpstreamUnavailable         connection refused, 5xx, open circuit, a body that is not the
    │                                   JSON we expect
    └── UpstreamRejected                the upstream answered, and said no
        ├── Unauthenticated   401       the key is missing, malformed or unknown
        ├── Forbidden         403       the key may not do this
        ├── NotFound          404/410   no such object
        ├── BadRequest        400/422   the request is invalid (field messages kept in ``field_errors``)
        └── RateLimited       429       too many requests (``retry_after`` in seconds, when sent)

    UpstreamMisuse (a RuntimeError outside the tree)  the gateway itself built a request httpx refused: a bug

This package knows nothing of GraphQL: the graph layer gives each class its ``extensions.code``
(``graph/errors.py``). Messages are ours, never the upstream's body or headers, so they are safe to show a
client; the status code and route are kept as attributes for logs and metrics.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """Root of every failure the upstream client raises."""

    def __init__(self, message: str, *, route: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.route = route
        self.status = status


class UpstreamUnreachable(UpstreamError):
    """The request got no usable answer: nothing the caller did wrong."""


class UpstreamTimeout(UpstreamUnreachable):
    """No answer in time: the call's own timeout, or the request's deadline, ran out."""


class UpstreamUnavailable(UpstreamUnreachable):
    """No usable answer: unreachable, a 5xx, an open circuit, or a body that cannot be read."""


class UpstreamRejected(UpstreamError):
    """The upstream answered with a 4xx: the request, key or rate is at fault."""


class Unauthenticated(UpstreamRejected):
    """401, or a key the client refuses to send (missing or malformed)."""


class Forbidden(UpstreamRejected):
    """403: the key is known but may not do this."""


class NotFound(UpstreamRejected):
    """404 or 410: no such object."""


class BadRequest(UpstreamRejected):
    """400/409/413/422; ``field_errors`` holds the upstream's per-field messages (DRF style)."""

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
    """429; ``retry_after`` is the seconds the upstream asked to wait, when it said."""

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
