"""Logs, metrics and traces: what an operator needs to watch the gateway, independent of HTTP routing.

- ``context``: the current request's record (id, operations, upstream calls), a context variable.
- ``logs``: JSON (or text) log lines with the request id on every record and secrets redacted.
- ``metrics``: Prometheus collectors in a per-application registry.
- ``tracing``: OpenTelemetry spans per operation and per upstream call (the optional ``otel`` extra).
"""

from .context import OperationRecord, RequestRecord, current_request, request_scope
from .logs import (
    ACCESS_LOGGER,
    REDACTED,
    GatewayJsonFormatter,
    GatewayTextFormatter,
    RedactSecretsFilter,
    RequestIdFilter,
    configure_logging,
    redact,
)
from .metrics import CONTENT_TYPE, MAX_OPERATION_NAMES, GatewayMetrics
from .tracing import MSG_MISSING_EXTRA, configure_tracing, instrument_upstream, operation_tracing

__all__ = [
    "ACCESS_LOGGER",
    "CONTENT_TYPE",
    "MAX_OPERATION_NAMES",
    "MSG_MISSING_EXTRA",
    "REDACTED",
    "GatewayJsonFormatter",
    "GatewayMetrics",
    "GatewayTextFormatter",
    "OperationRecord",
    "RedactSecretsFilter",
    "RequestIdFilter",
    "RequestRecord",
    "configure_logging",
    "configure_tracing",
    "current_request",
    "instrument_upstream",
    "operation_tracing",
    "redact",
    "request_scope",
]
