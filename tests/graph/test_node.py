"""Global object identification: ``Query.node`` and ``Query.nodes`` find any kind by its upstream id."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from events_gateway.emulator import RunningEmulator
from events_gateway.graph import build_schema
from events_gateway.graph.cost import CostModel, predict_cost
from events_gateway.settings import Settings

from .conftest import Gateway, GatewayFor, Rest

MISSING = "00000000-0000-4000-8000-000000000000"

NODES = """query($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename id
    ... on EventCategory { title }
    ... on Event { title category { id } }
    ... on EventProperty { title event { id } }
  }
}"""


async def _one_of_each(emulator: RunningEmulator, rest: Rest) -> tuple[Any, Any, Any]:
    category = (await rest(emulator, "/event/category"))[0]
    event = (await rest(emulator, "/event/events", parent_id=category["id"]))[0]
    prop = (await rest(emulator, "/event/event_properties", parent_id=event["id"]))[0]
    return category, event, prop


async def test_node_finds_each_kind_by_its_upstream_id(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category, event, prop = await _one_of_each(emulator, rest)
    query = "query($id: ID!) { node(id: $id) { __typename id ... on Resource { title } } }"
    for resource, type_name in ((category, "EventCategory"), (event, "Event"), (prop, "EventProperty")):
        data = await gateway.data(query, {"id": resource["id"]})
        assert data == {"node": {"__typename": type_name, "id": resource["id"], "title": resource["title"]}}


@pytest.mark.parametrize("batching", ["catalog", "per-parent"])
async def test_nodes_keeps_the_order_and_nulls_unknown_ids(
    emulator: RunningEmulator, gateway_for: GatewayFor, rest: Rest, batching: str
) -> None:
    gateway = gateway_for(emulator, batching=batching)
    category, event, prop = await _one_of_each(emulator, rest)
    ids = [prop["id"], MISSING, category["id"], "not-an-id", event["id"], prop["id"].replace("-", "")]

    data = await gateway.data(NODES, {"ids": ids})

    assert data["nodes"] == [
        {
            "__typename": "EventProperty",
            "id": prop["id"],
            "title": prop["title"],
            "event": {"id": event["id"]},
        },
        None,
        {"__typename": "EventCategory", "id": category["id"], "title": category["title"]},
        None,
        {
            "__typename": "Event",
            "id": event["id"],
            "title": event["title"],
            "category": {"id": category["id"]},
        },
        {
            "__typename": "EventProperty",
            "id": prop["id"],
            "title": prop["title"],
            "event": {"id": event["id"]},
        },
    ]


async def test_nodes_of_every_kind_cost_one_upstream_call(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest, emulator_admin: Any
) -> None:
    category, event, prop = await _one_of_each(emulator, rest)
    await emulator_admin.reset()

    data = await gateway.data(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [category["id"], event["id"], prop["id"]]}
    )

    assert [node["id"] for node in data["nodes"]] == [category["id"], event["id"], prop["id"]]
    assert (await emulator_admin.stats())["total"] == 1


async def test_a_missing_node_is_null_without_an_error(gateway: Gateway) -> None:
    result = await gateway.run("query($id: ID!) { node(id: $id) { id } }", {"id": MISSING})
    assert result.errors is None
    assert result.data == {"node": None}


async def test_too_many_ids_are_refused_before_any_call(
    emulator: RunningEmulator, gateway_for: GatewayFor, emulator_admin: Any
) -> None:
    gateway = gateway_for(emulator, max_first=2, default_first=2)
    await emulator_admin.reset()
    error = await gateway.error('{ nodes(ids: ["a", "b", "c"]) { id } }')
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "ids")
    assert (await emulator_admin.stats())["total"] == 0


def _cost(query: str, variables: dict[str, Any] | None = None) -> int | None:
    settings = Settings()
    model = CostModel.from_settings(settings)
    return predict_cost(build_schema(settings)._schema, parse(query), model, variables=variables)


def test_the_cost_of_nodes_counts_its_ids() -> None:
    # one page of ids per 50 (the page-size hint), and their selections below as that many parents
    assert _cost('{ node(id: "a") { id } }') == 1
    assert _cost("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["a"] * 120}) == 3
    nested = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Event { properties(first: 10) { totalCount } } } }"
    )
    assert _cost(nested, {"ids": ["a"] * 10}) == 1 + 2
