"""Structured logs: one JSON object per line, each record carrying its request id, none carrying a key.

Why JSON: log shippers (Loki, Elasticsearch, CloudWatch) index its fields without a parsing rule, so an
operator can pull every line of one request by its ``request_id``. Why redaction on top of a client that
never logs keys: a key can still arrive in text we do not write (an exception message from a library, a
header echoed back), and one leaked key is one too many.

Example::

    handler = configure_logging(settings)          # what ``events-gateway serve`` does
    logging.getLogger("events_gateway").info("hello", extra={"route": "GET /x"})
    # {"timestamp": "...", "level": "INFO", "logger": "events_gateway", "message": "hello",
    #  "request_id": "3f2a…", "route": "GET /x"}
"""

from __future__ import annotations

import logging
import re
import sys
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

from ..settings import Settings
from .context import current_request

__all__ = [
    "ACCESS_LOGGER",
    "REDACTED",
    "GatewayJsonFormatter",
    "GatewayTextFormatter",
    "RedactSecretsFilter",
    "RequestIdFilter",
    "configure_logging",
    "redact",
]

#: The logger of the one line per request (method, path, status, duration, operation, upstream calls).
ACCESS_LOGGER = "events_gateway.access"
REDACTED = "[REDACTED]"

#: ``Bearer <token>`` anywhere (headers, reprs, messages), and ``api_key=…``/``"api_key": "…"`` pairs.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[^\s\"',;]+"),
    re.compile(
        r"(?i)(\b(?:api[_-]?key|x-api-key|authorization)[\"']?\s*[:=]\s*[\"']?)(?!bearer\b)[^\s\"',;&}]+"
    ),
)
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def redact(text: str) -> str:
    """``text`` with every bearer token and key-looking value replaced by ``[REDACTED]``."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def _redact_text(text: str | list[str]) -> str:
    """The formatter's text, redacted (a list only comes back with the ``*_as_array`` options, unused)."""
    return redact(text if isinstance(text, str) else "\n".join(text))


class RequestIdFilter(logging.Filter):
    """Stamps ``record.request_id`` with the current request's id (``None`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            current = current_request()
            record.request_id = current.request_id if current is not None else None
        return True


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message (and any pre-rendered traceback) with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: keep the record, the formatter reports it
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class GatewayJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with our field names, and tracebacks redacted too."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            timestamp=False,
        )

    def formatException(self, ei: Any) -> str:  # logging's own name
        return _redact_text(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # logging's own name
        return _redact_text(super().formatStack(stack_info))


class GatewayTextFormatter(logging.Formatter):
    """One readable line per record, the request id in brackets; tracebacks redacted."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def formatException(self, ei: Any) -> str:  # logging's own name
        return redact(super().formatException(ei))


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (standard error by default) in ``settings.log_format``.

    Replaces the root logger's handlers, so call it once, from the process entry point; returns the
    handler (tests remove it again).
    """
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(GatewayJsonFormatter() if settings.log_format == "json" else GatewayTextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # aiohttp's own access log would repeat ours without the operation, status or request id.
    logging.getLogger("aiohttp.access").propagate = False
    # httpx logs every upstream URL at INFO (filter values included): the access line counts the calls,
    # and the upstream client's DEBUG lines name their routes, so those lines show at DEBUG only.
    quiet = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    logging.getLogger("httpx").setLevel(quiet)
    return handler
