"""OpenTelemetry: one span per GraphQL operation and one per upstream call, in one trace, when switched on."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from events_gateway.observability import configure_tracing
from events_gateway.server import DEMO_QUERY
from events_gateway.server.call_plan import PLAN_HEADER

from ..conftest import GatewayFactory

#: OpenTelemetry's global provider can be set once per process: the tests share one, and one exporter.
_EXPORTER = InMemorySpanExporter()
_installed: list[TracerProvider] = []


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if not _installed:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        _installed.append(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


async def test_a_query_is_one_operation_span_over_one_span_per_upstream_call(
    spans: InMemorySpanExporter,
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
) -> None:
    gateway = await gateway_factory(otel=True, upstream_plan="on")
    response = await http.post(
        f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers={**api_headers, PLAN_HEADER: "1"}
    )
    plan = response.json()["extensions"]["upstream"]
    finished = spans.get_finished_spans()

    operations = [span for span in finished if span.name.startswith("GraphQL Query")]
    assert [span.name for span in operations] == ["GraphQL Query: CategoriesEventsProperties"]
    operation = operations[0]
    assert operation.kind is SpanKind.SERVER
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.type"] == "query"

    upstream = [span for span in finished if span.kind is SpanKind.CLIENT]
    assert len(upstream) == plan["totalCalls"] >= 3
    assert operation.context is not None
    for span in upstream:
        assert span.context is not None
        assert span.parent is not None
        assert span.context.trace_id == operation.context.trace_id
        assert span.attributes is not None
        assert (
            span.attributes.get("http.response.status_code", span.attributes.get("http.status_code")) == 200
        )
    direct = [
        span
        for span in upstream
        if span.parent is not None and span.parent.span_id == operation.context.span_id
    ]
    assert direct, "the first level's calls start under the operation span itself"
    assert not [span for span in finished if span.name.startswith("GraphQL Resolving")]


async def test_a_refused_document_still_ends_its_span_as_an_error(
    spans: InMemorySpanExporter,
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
) -> None:
    gateway = await gateway_factory(otel=True, max_depth=2)
    response = await http.post(f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers=api_headers)
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    operations = [span for span in spans.get_finished_spans() if span.name.startswith("GraphQL Query")]
    assert len(operations) == 1
    assert operations[0].status.status_code is StatusCode.ERROR
    assert not [span for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]


async def test_switched_off_nothing_is_traced(
    spans: InMemorySpanExporter, gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    response = await http.post(f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers=api_headers)
    assert "errors" not in response.json()
    assert spans.get_finished_spans() == ()


def test_an_installed_provider_is_kept(spans: InMemorySpanExporter) -> None:
    provider = trace.get_tracer_provider()
    assert configure_tracing(exporter=InMemorySpanExporter()) is False
    assert trace.get_tracer_provider() is provider
