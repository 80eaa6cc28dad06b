"""Every query field, checked against what the upstream itself returns over REST."""

from __future__ import annotations

import base64

import pytest

from events_gateway.emulator import RunningEmulator

from ..conftest import EmulatorFactory
from .conftest import Gateway, GatewayFor, Rest

TREE = """
query Tree {
  eventCategories {
    totalCount
    nodes {
      id title description integrationId childrenCount createdAt updatedAt
      events {
        totalCount
        nodes {
          id title description definition parentId pii verified published owners tags teams
          category { id }
          properties {
            totalCount
            nodes { id title type rawType isRequired enumValues regex isArrayType parentId event { id } }
          }
        }
      }
    }
  }
}
"""


@pytest.mark.parametrize("batching", ["catalog", "per-parent"])
async def test_nested_tree_equals_the_upstream_data(
    emulator: RunningEmulator, gateway_for: GatewayFor, rest: Rest, batching: str
) -> None:
    gateway = gateway_for(emulator, batching=batching)
    data = await gateway.data(TREE)

    categories = await rest(emulator, "/event/category")
    got = data["eventCategories"]
    assert got["totalCount"] == len(categories)
    assert [c["id"] for c in got["nodes"]] == [c["id"] for c in categories]
    for category, upstream in zip(got["nodes"], categories, strict=True):
        assert category["title"] == upstream["title"]
        assert category["integrationId"] == upstream["integration"]
        assert category["childrenCount"] == upstream["children_count"]
        events = await rest(emulator, "/event/events", parent_id=upstream["id"])
        assert category["events"]["totalCount"] == len(events)
        assert [e["id"] for e in category["events"]["nodes"]] == [e["id"] for e in events]
        for event, upstream_event in zip(category["events"]["nodes"], events, strict=True):
            assert event["title"] == upstream_event["title"]
            assert event["description"] == upstream_event["description"]
            assert event["parentId"] == category["id"]
            assert event["category"] == {"id": category["id"]}
            assert event["owners"] == upstream_event["owners"]
            properties = await rest(emulator, "/event/event_properties", parent_id=upstream_event["id"])
            got_properties = event["properties"]["nodes"]
            assert [p["id"] for p in got_properties] == [p["id"] for p in properties]
            for prop, upstream_prop in zip(got_properties, properties, strict=True):
                assert prop["type"] == upstream_prop["type"].upper()
                assert prop["rawType"] == upstream_prop["type"]
                assert prop["isRequired"] == upstream_prop["is_required"]
                upstream_values = [v for v in upstream_prop["enum_values"].split(",") if v]
                assert prop["enumValues"] == (upstream_values or None)
                assert prop["isArrayType"] == upstream_prop["is_array_type"]
                assert prop["event"] == {"id": event["id"]}


async def test_lookups_by_id_of_each_kind(emulator: RunningEmulator, gateway: Gateway, rest: Rest) -> None:
    category = (await rest(emulator, "/event/category"))[0]
    event = (await rest(emulator, "/event/events"))[0]
    prop = (await rest(emulator, "/event/event_properties"))[0]
    query = """query($c: ID!, $e: ID!, $p: ID!) {
      eventCategory(id: $c) { id title } event(id: $e) { id title } eventProperty(id: $p) { id title }
    }"""
    data = await gateway.data(query, {"c": category["id"], "e": event["id"], "p": prop["id"]})
    assert data == {
        "eventCategory": {"id": category["id"], "title": category["title"]},
        "event": {"id": event["id"], "title": event["title"]},
        "eventProperty": {"id": prop["id"], "title": prop["title"]},
    }


async def test_bare_hex_ids_are_accepted(emulator: RunningEmulator, gateway: Gateway, rest: Rest) -> None:
    event = (await rest(emulator, "/event/events"))[0]
    data = await gateway.data(
        "query($id: ID!) { event(id: $id) { id } }", {"id": event["id"].replace("-", "")}
    )
    assert data == {"event": {"id": event["id"]}}


async def test_a_missing_id_is_null_with_not_found(gateway: Gateway) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    result = await gateway.run("query($id: ID!) { event(id: $id) { id } }", {"id": missing})
    assert result.data == {"event": None}
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions == {"code": "NOT_FOUND"}
    assert error.path == ["event"]


async def test_an_id_of_another_kind_is_null_without_error(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category = (await rest(emulator, "/event/category"))[0]
    data = await gateway.data(
        "query($id: ID!) { event(id: $id) { id } eventProperty(id: $id) { id } }", {"id": category["id"]}
    )
    assert data == {"event": None, "eventProperty": None}


async def test_a_malformed_id_is_bad_user_input(gateway: Gateway) -> None:
    extensions = await gateway.error('{ eventCategory(id: "not-a-uuid") { id } }')
    assert (extensions["code"], extensions["field"]) == ("BAD_USER_INPUT", "id")


async def test_filters_match_the_upstream_filters(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category = (await rest(emulator, "/event/category"))[1]
    events = await rest(emulator, "/event/events", parent_id=category["id"])
    data = await gateway.data(
        """query($c: ID!, $title: String!, $i: ID!) {
          byCategory: events(filter: {categoryId: $c}) { totalCount nodes { id } }
          byTitle: events(filter: {title: $title}) { nodes { id } }
          byIntegration: events(filter: {integrationId: $i}) { totalCount }
          categories: eventCategories(title: "Checkout") { nodes { title } }
        }""",
        {"c": category["id"], "title": events[0]["title"], "i": category["integration"]},
    )
    assert [node["id"] for node in data["byCategory"]["nodes"]] == [e["id"] for e in events]
    assert data["byCategory"]["totalCount"] == len(events)
    assert [node["id"] for node in data["byTitle"]["nodes"]] == [
        e["id"] for e in await rest(emulator, "/event/events", title=events[0]["title"])
    ]
    assert data["byIntegration"]["totalCount"] == len(
        await rest(emulator, "/event/events", integration_id=category["integration"])
    )
    assert data["categories"]["nodes"] == [{"title": "Checkout"}]


async def test_property_filters_and_nested_title_filters(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    event = (await rest(emulator, "/event/events"))[0]
    properties = await rest(emulator, "/event/event_properties", parent_id=event["id"])
    title = properties[0]["title"]
    data = await gateway.data(
        """query($e: ID!, $title: String!) {
          eventProperties(filter: {eventId: $e}) { nodes { id } }
          named: eventProperties(filter: {title: $title}) { totalCount }
          event(id: $e) { properties(title: $title) { nodes { id title } } }
        }""",
        {"e": event["id"], "title": title},
    )
    assert [n["id"] for n in data["eventProperties"]["nodes"]] == [p["id"] for p in properties]
    assert data["named"]["totalCount"] == len(await rest(emulator, "/event/event_properties", title=title))
    assert data["event"]["properties"]["nodes"] == [{"id": properties[0]["id"], "title": title}]


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


@pytest.mark.parametrize("batching", ["catalog", "per-parent"])
async def test_top_level_pages_follow_the_cursors_across_upstream_pages(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, rest: Rest, batching: str
) -> None:
    emulator = await emulator_factory(seed="scale", scale=(2, 30, 1), page_size=7)
    gateway = gateway_for(emulator, batching=batching)
    everything = [e["id"] for e in await rest(emulator, "/event/events")]
    seen: list[str] = []
    after: str | None = None
    while True:
        data = await gateway.data(
            """query($after: String) { events(first: 11, after: $after) {
                totalCount edges { cursor node { id } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
            {"after": after},
        )
        connection = data["events"]
        assert connection["totalCount"] == 60
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert connection["pageInfo"]["startCursor"] == connection["edges"][0]["cursor"]
        seen.extend(edge["node"]["id"] for edge in connection["edges"])
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert seen == everything


async def test_nested_connections_slice_with_first_and_after(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category = (await rest(emulator, "/event/category"))[0]
    events = await rest(emulator, "/event/events", parent_id=category["id"])
    data = await gateway.data(
        """query($id: ID!, $after: String!) { eventCategory(id: $id) {
            head: events(first: 1) { totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage } }
            tail: events(after: $after) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } } }""",
        {"id": category["id"], "after": _cursor(0)},
    )
    node = data["eventCategory"]
    assert node["head"]["nodes"] == [{"id": events[0]["id"]}]
    assert node["head"]["totalCount"] == len(events)
    assert node["head"]["pageInfo"] == {"hasNextPage": len(events) > 1, "hasPreviousPage": False}
    assert [n["id"] for n in node["tail"]["nodes"]] == [e["id"] for e in events[1:]]
    assert node["tail"]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}


async def test_a_window_past_the_end_is_empty_with_the_true_total(gateway: Gateway, rest: Rest) -> None:
    data = await gateway.data(
        f'{{ eventCategories(after: "{_cursor(500)}") {{ totalCount nodes {{ id }} }} }}'
    )
    assert data["eventCategories"]["nodes"] == []
    assert data["eventCategories"]["totalCount"] == 5


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ("first: -1", "first"),
        ("first: 1001", "first"),
        ('after: "bm90LWEtY3Vyc29y"', "after"),
        ('after: "%%"', "after"),
    ],
)
async def test_out_of_bounds_paging_arguments_are_bad_user_input(
    gateway: Gateway, arguments: str, field: str
) -> None:
    extensions = await gateway.error(f"{{ eventCategories({arguments}) {{ totalCount }} }}")
    assert (extensions["code"], extensions["field"]) == ("BAD_USER_INPUT", field)


async def test_first_defaults_to_the_setting(emulator: RunningEmulator, gateway_for: GatewayFor) -> None:
    gateway = gateway_for(emulator, default_first=2, max_first=3)
    data = await gateway.data("{ eventCategories { nodes { id } pageInfo { hasNextPage } } }")
    assert len(data["eventCategories"]["nodes"]) == 2
    assert data["eventCategories"]["pageInfo"]["hasNextPage"] is True
    result = await gateway.run("{ eventCategories(first: 4) { totalCount } }")
    assert result.errors is not None
