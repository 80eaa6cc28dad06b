"""OpenTelemetry traces: one span per GraphQL operation, one per upstream call (``settings.otel``).

The OpenTelemetry packages are the optional ``otel`` extra (``pip install 'events-gateway[otel]'``); this
module imports them only when tracing is switched on, and a gateway told to trace without them refuses
to start with a ``SettingsError`` that names the extra.

- Operation spans come from Strawberry's ``OpenTelemetryExtension`` (with its parsing and validation
  spans), changed in two ways: the operation span is made *current*, so every span started while the
  operation runs (upstream calls included) joins its trace; and it always ends, with the error recorded,
  even when a limit refuses the document. Per-resolver spans are left out: a nested list query would make
  thousands of them, and the upstream spans already show where the time went.
- Upstream spans come from ``opentelemetry-instrumentation-httpx``, applied to the upstream client's own
  ``httpx.AsyncClient`` (``instrument_client``; the server hands :func:`instrument_upstream` to
  ``UpstreamClient.instrument``). The global instrumentation patches httpx's default transport, which
  this gateway does not use (it sends through aiohttp, behind the retry and breaker transport), so it
  would see nothing; wrapping the client's transport gives one ``CLIENT`` span per upstream call, its
  retries inside it.
- Spans go to the global tracer provider. :func:`configure_tracing` (called by ``serve``) installs the
  SDK's provider with an OTLP exporter configured by the standard ``OTEL_*`` variables
  (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``, …), unless one is already installed, for
  instance by ``opentelemetry-instrument``.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import httpx

from ..settings import SettingsError

if TYPE_CHECKING:
    from strawberry.extensions import SchemaExtension

__all__ = ["MSG_MISSING_EXTRA", "configure_tracing", "instrument_upstream", "operation_tracing"]

MSG_MISSING_EXTRA = (
    "EVENTS_GATEWAY_OTEL is on but OpenTelemetry is not installed: pip install 'events-gateway[otel]'"
)
DEFAULT_SERVICE_NAME = "events-gateway"
_OTEL_MODULES = (
    "opentelemetry.sdk.trace",
    "opentelemetry.instrumentation.httpx",
    "strawberry.extensions.tracing.opentelemetry",
)


def _require_otel() -> None:
    for module in _OTEL_MODULES:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise SettingsError(MSG_MISSING_EXTRA) from exc


def operation_tracing() -> type[SchemaExtension]:
    """The schema extension that opens one span per GraphQL operation (a fresh one per request)."""
    _require_otel()
    from opentelemetry import context, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from strawberry.extensions import LifecycleStep, SchemaExtension
    from strawberry.extensions.tracing.opentelemetry import OpenTelemetryExtension

    class OperationSpans(OpenTelemetryExtension):
        """Strawberry's extension, its operation span current and always ended, without resolver spans."""

        # One span per field per object swamps a trace; the base class's hook is the no-op one again.
        resolve = SchemaExtension.resolve  # type: ignore[assignment]  # restores the base's own hook

        def on_operation(self) -> Generator[None, None, None]:
            provided = self.execution_context.operation_name
            span = self._tracer.start_span(
                f"GraphQL Query: {provided}" if provided else "GraphQL Query", kind=SpanKind.SERVER
            )
            span.set_attribute("component", "graphql")
            self._span_holder[LifecycleStep.OPERATION] = span
            token = context.attach(trace.set_span_in_context(span))
            try:
                yield
            except BaseException as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            finally:
                context.detach(token)
                name = self.execution_context.operation_name
                if name:
                    span.set_attribute("graphql.operation.name", name)
                    if not provided:
                        span.update_name(f"GraphQL Query: {name}")
                if self.execution_context.graphql_document is not None:
                    # Several operations and none chosen raises: validation reports that to the caller.
                    with contextlib.suppress(RuntimeError):
                        kind = self.execution_context.operation_type.value
                        span.set_attribute("graphql.operation.type", kind)
                span.end()

    return OperationSpans


def instrument_upstream(http: httpx.AsyncClient) -> Callable[[], None]:
    """Trace every call ``http`` makes (one ``CLIENT`` span each); returns the function that undoes it."""
    _require_otel()
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(http)

    def uninstrument() -> None:
        HTTPXClientInstrumentor.uninstrument_client(http)

    return uninstrument


def configure_tracing(*, exporter: Any | None = None) -> bool:
    """Install the SDK's tracer provider globally, unless one is installed already; True when installed.

    The exporter is OTLP over HTTP (configured by ``OTEL_EXPORTER_OTLP_*``) unless ``exporter`` is given;
    the service is named by ``OTEL_SERVICE_NAME``, else ``events-gateway``.
    """
    _require_otel()
    import os

    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return False
    if exporter is None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise SettingsError(MSG_MISSING_EXTRA) from exc
        exporter = OTLPSpanExporter()
    name = os.environ.get("OTEL_SERVICE_NAME", DEFAULT_SERVICE_NAME)
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True
