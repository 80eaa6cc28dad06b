"""The Grafana dashboard in docs/grafana asks only for metrics a running gateway exposes.

Every PromQL expression of the dashboard (panel targets, rows' panels, template variables) is read, the
metric names in it are picked out, and each must be a sample name the gateway's ``/metrics`` offers after
a few real queries over the emulator: a renamed metric, or a panel written for a metric that does not
exist yet, fails here instead of showing "No data" to an operator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from events_gateway.emulator import DEMO_API_KEY
from events_gateway.server import DEMO_QUERY, PLAN_HEADER
from events_gateway.server.persisted_queries import sha256_hex

from .conftest import GatewayFactory

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "events-gateway.json"

#: Sample names a family of each type exposes, after its family name.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])[A-Za-z_:][\w:]*+(?!\s*\()")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless"}
    | {"inf", "nan", "Inf", "NaN", "atan2", "start", "end"}
)
#: Grafana's template functions: ``label_values(selector, label)`` names a metric in its first argument.
_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(.*),)?\s*\w+\s*\)\s*$", re.S)


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, labels and numbers left out)."""
    text = _GRAFANA_VARIABLE.sub(" ", _STRING.sub(" ", expression))
    text = _GROUPING.sub(" ", _RANGE.sub(" ", _MATCHERS.sub(" ", text)))
    return {name for name in _IDENTIFIER.findall(text) if name not in _KEYWORDS}


def expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, PromQL)`` for every query of the dashboard, in rows and template variables too."""

    def panels(items: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
        for panel in items:
            for target in panel.get("targets", []):
                if "expr" in target:
                    yield panel.get("title", "?"), target["expr"]
            yield from panels(panel.get("panels", []))

    yield from panels(dashboard["panels"])
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable["query"]
        query = query.get("query", "") if isinstance(query, dict) else query
        found = _LABEL_VALUES.match(query)
        if found is not None:
            query = found.group(1) or ""
        yield f"${variable['name']}", query


def exposed_names(exposition: str) -> set[str]:
    """Every sample name ``/metrics`` offers, those of families with no sample yet included."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("sum(rate(a_total[5m]))", {"a_total"}),
        (
            'histogram_quantile(0.95, sum by (le, route) (rate(b_bucket{route=~"x|y"}[$__rate_interval])))',
            {"b_bucket"},
        ),
        ('sum(rate(c_sum{job="$job"}[1m])) / sum(rate(c_count[1m])) or vector(0)', {"c_sum", "c_count"}),
        ('max by (origin) (d{state="open"}) * 2 + on (origin) group_left e offset 5m > bool 1e3', {"d", "e"}),
        ('count(f{a="sum(g_total)"}) without (instance)', {"f"}),
    ],
)
def test_metric_names_are_picked_out_of_promql(expression: str, expected: set[str]) -> None:
    assert metric_names(expression) == expected


def test_the_dashboard_names_the_gateway_metrics_it_is_built_on() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = {name for _, expression in expressions(dashboard) for name in metric_names(expression)}
    for family in (
        "events_gateway_graphql_requests_total",
        "events_gateway_graphql_request_duration_seconds_bucket",
        "events_gateway_upstream_calls_total",
        "events_gateway_upstream_call_duration_seconds_bucket",
        "events_gateway_upstream_rounds_bucket",
        "events_gateway_loader_batch_size_bucket",
        "events_gateway_upstream_retries_total",
        "events_gateway_upstream_circuit_state",
        "events_gateway_persisted_queries_total",
        "events_gateway_cache_operations_total",
        "events_gateway_cache_answers_total",
        "events_gateway_cache_events_total",
        "events_gateway_cache_redis_errors_total",
    ):
        assert family in used, family


async def test_every_metric_the_dashboard_queries_is_exposed_by_a_running_gateway(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY, upstream_plan="on")
    graphql = f"{gateway}/graphql"
    await http.post(graphql, json={"query": DEMO_QUERY}, headers={PLAN_HEADER: "1"})
    await http.post(graphql, json={"query": "{ nope }"})
    query = "{ eventCategories(first: 1) { totalCount } }"
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
    await http.post(graphql, json={"extensions": apq})
    await http.post(graphql, json={"query": query, "extensions": apq})
    await http.post(graphql, json={"extensions": apq})
    response = await http.get(f"{gateway}/metrics")
    assert response.status_code == 200
    exposed = exposed_names(response.text)

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = list(expressions(dashboard))
    assert len(queries) > 10
    missing = {
        (where, name)
        for where, expression in queries
        for name in metric_names(expression)
        if name not in exposed
    }
    assert missing == set()
