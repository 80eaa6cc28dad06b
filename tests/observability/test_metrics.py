"""``/metrics``: Prometheus figures of requests, upstream calls, batches, circuits and persisted queries."""

from __future__ import annotations

import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families

from events_gateway.observability import MAX_OPERATION_NAMES, GatewayMetrics
from events_gateway.server import DEMO_QUERY
from events_gateway.server.call_plan import PLAN_HEADER
from events_gateway.server.persisted_queries import sha256_hex
from events_gateway.settings import Settings

from ..conftest import EmulatorFactory, GatewayFactory

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(http: httpx.AsyncClient, gateway: str) -> Samples:
    response = await http.get(f"{gateway}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of ``name`` over every sample whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (metric, got), value in samples.items() if metric == name and wanted <= set(got))


async def test_a_query_counts_its_request_its_upstream_calls_and_its_batches(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    # Level by level, so that the nested levels go out as batches (read ahead, they are read by type).
    gateway = await gateway_factory(upstream_plan="on", plan_ahead=False)
    response = await http.post(
        f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers={**api_headers, PLAN_HEADER: "1"}
    )
    plan = response.json()["extensions"]["upstream"]
    samples = await scrape(http, gateway)

    operation = "CategoriesEventsProperties"
    assert total(samples, "events_gateway_graphql_requests_total", operation=operation, outcome="ok") == 1
    assert total(samples, "events_gateway_graphql_request_duration_seconds_count", operation=operation) == 1
    assert total(samples, "events_gateway_upstream_calls_total") == plan["totalCalls"]
    assert total(samples, "events_gateway_upstream_calls_total", status="200") == plan["totalCalls"]
    assert total(samples, "events_gateway_upstream_call_duration_seconds_count") == plan["totalCalls"]
    for route in {entry["route"] for entry in plan["calls"]}:
        expected = sum(1 for entry in plan["calls"] if entry["route"] == route)
        assert total(samples, "events_gateway_upstream_calls_total", route=route) == expected
    batched = [entry for entry in plan["calls"] if "batchSize" in entry]
    assert batched
    assert total(samples, "events_gateway_loader_batch_size_count") == len(batched)
    assert total(samples, "events_gateway_loader_batch_size_sum") == sum(e["batchSize"] for e in batched)
    assert total(samples, "events_gateway_upstream_rounds_count", operation=operation) == 1
    assert total(samples, "events_gateway_upstream_rounds_sum", operation=operation) == plan["rounds"]


async def test_failures_are_counted_under_their_code(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    await http.post(f"{gateway}/graphql", json={"query": "query NoKey { eventCategories { totalCount } }"})
    await http.post(f"{gateway}/graphql", json={"query": "{ nope }"}, headers=api_headers)
    await http.post(f"{gateway}/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    samples = await scrape(http, gateway)
    requests = "events_gateway_graphql_requests_total"
    assert total(samples, requests, operation="NoKey", outcome="UNAUTHENTICATED") == 1
    assert total(samples, requests, operation="anonymous", outcome="GRAPHQL_VALIDATION_FAILED") == 1
    assert total(samples, requests, outcome="HTTP_400") == 1
    assert total(samples, requests) == 3  # the scrape itself is not a GraphQL request


async def test_persisted_query_hits_and_misses_are_counted(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    query = "{ eventCategories(first: 1) { totalCount } }"
    extension = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
    url = f"{gateway}/graphql"
    await http.post(url, json={"extensions": extension}, headers=api_headers)
    await http.post(url, json={"extensions": extension, "query": query}, headers=api_headers)
    await http.post(url, json={"extensions": extension}, headers=api_headers)
    await http.post(url, json={"extensions": extension}, headers=api_headers)
    samples = await scrape(http, gateway)
    name = "events_gateway_persisted_queries_total"
    assert total(samples, name, outcome="miss") == 1
    assert total(samples, name, outcome="registered") == 1
    assert total(samples, name, outcome="hit") == 2
    requests = "events_gateway_graphql_requests_total"
    assert total(samples, requests, outcome="PERSISTED_QUERY_NOT_FOUND") == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_upstream_shows_as_failed_calls_and_an_open_circuit(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    origin = f"http://127.0.0.1:{_closed_port()}"
    gateway = await gateway_factory(upstream_url=f"{origin}/api/v1")
    for _ in range(3):  # three attempts per call, five consecutive failures open the circuit
        await http.post(f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers=api_headers)
    samples = await scrape(http, gateway)
    assert total(samples, "events_gateway_upstream_calls_total", status="none") >= 2
    state = "events_gateway_upstream_circuit_state"
    assert total(samples, state, origin=origin, state="open") == 1
    assert total(samples, state, origin=origin, state="closed") == 0
    requests = "events_gateway_graphql_requests_total"
    assert total(samples, requests, outcome="UPSTREAM_UNAVAILABLE") == 3


async def test_retries_of_a_failing_upstream_are_counted(
    emulator_factory: EmulatorFactory,
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    api_headers: dict[str, str],
) -> None:
    failing = await emulator_factory(fault_rate=1.0, faults=("503",))
    gateway = await gateway_factory(upstream_url=failing.api_url)
    query = "{ eventCategories(first: 1) { totalCount } }"
    response = await http.post(f"{gateway}/graphql", json={"query": query}, headers=api_headers)
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    samples = await scrape(http, gateway)
    origin = failing.api_url.rsplit("/api/v1", 1)[0]
    assert total(samples, "events_gateway_upstream_calls_total", status="503") == 1
    assert total(samples, "events_gateway_upstream_retries_total", origin=origin, reason="503") == 2


async def test_metrics_can_be_turned_off(gateway_factory: GatewayFactory, http: httpx.AsyncClient) -> None:
    gateway = await gateway_factory(metrics=False)
    assert (await http.get(f"{gateway}/metrics")).status_code == 404


def test_each_app_has_its_own_registry() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()  # the global registry would refuse the second
    first.observe_request("A", "ok", 0.1)
    assert (
        first.registry.get_sample_value(
            "events_gateway_graphql_requests_total", {"operation": "A", "outcome": "ok"}
        )
        == 1
    )
    assert (
        second.registry.get_sample_value(
            "events_gateway_graphql_requests_total", {"operation": "A", "outcome": "ok"}
        )
        is None
    )


def test_operation_labels_are_bounded() -> None:
    metrics = GatewayMetrics()
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("not a name; DROP") == "other"
    assert metrics.operation_label("x" * 65) == "other"
    names = [f"Op{n}" for n in range(MAX_OPERATION_NAMES)]
    assert [metrics.operation_label(name) for name in names] == names
    assert metrics.operation_label("OneTooMany") == "other"
    assert metrics.operation_label("Op0") == "Op0"


def test_breaker_hook_sets_one_state_per_origin() -> None:
    metrics = GatewayMetrics()
    metrics.set_breaker_state("https://api.example:443", "half_open")
    values = {
        state: metrics.registry.get_sample_value(
            "events_gateway_upstream_circuit_state", {"origin": "https://api.example:443", "state": state}
        )
        for state in ("closed", "open", "half_open")
    }
    assert values == {"closed": 0.0, "open": 0.0, "half_open": 1.0}
    metrics.record_retry("https://api.example:443", "503")
    assert (
        metrics.registry.get_sample_value(
            "events_gateway_upstream_retries_total", {"origin": "https://api.example:443", "reason": "503"}
        )
        == 1
    )


def test_settings_default_to_serving_metrics() -> None:
    assert Settings().metrics is True
