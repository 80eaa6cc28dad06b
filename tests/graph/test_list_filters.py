"""Filters and orders on every list, top-level and nested, through both batching strategies, against the
emulator's own data.

The demo workspace is decorated first (tags, owners, teams, flags, changes), then every filter field, and
combinations of them, in several orders, is asked of all five lists in one query. The expected answers
are computed here from the emulator's plain routes with a test written independently of the gateway's
(``ListSpec`` is not used), so a filter the gateway sends wrong, or tests wrong locally, fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cmp_to_key
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.graph import ErrorCode, build_schema
from events_gateway.graph.cost import CostModel, predict_cost
from events_gateway.settings import Settings

from ..conftest import EmulatorFactory
from .conftest import AdminFor, Gateway, GatewayFor, Rest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

TAG = "7a6b0000-0000-4000-8000-000000000001"
OTHER_TAG = "7a6b0000-0000-4000-8000-000000000002"
OWNER = "0e0e0000-0000-4000-8000-000000000003"
TEAM = "7e7e0000-0000-4000-8000-000000000004"

Resource = dict[str, Any]
Test = Callable[[Resource], bool]
Order = list[dict[str, str]]

#: The orders the cases rotate through (``None``: the stable order).
ORDERS: list[Order | None] = [
    None,
    [{"field": "TITLE"}],
    [{"field": "TITLE", "direction": "DESC"}],
    [{"field": "UPDATED_AT", "direction": "DESC"}, {"field": "TITLE"}],
    [{"field": "CREATED_AT", "direction": "DESC"}],
    [{"field": "UPDATED_AT"}],
]

EVERY_LIST = """
query($f: ListFilter, $ef: EventFilter, $pf: EventPropertyFilter, $o: [ListOrder!]) {
  eventCategories(filter: $f, orderBy: $o, first: 1000) { totalCount nodes { id } }
  events(filter: $ef, orderBy: $o, first: 1000) { totalCount nodes { id } }
  eventProperties(filter: $pf, orderBy: $o, first: 1000) { totalCount nodes { id } }
  everyCategory: eventCategories(first: 1000) {
    nodes { id events(filter: $f, orderBy: $o, first: 1000) { totalCount nodes { id } } }
  }
  everyEvent: events(first: 1000) {
    nodes { id properties(filter: $f, orderBy: $o, first: 1000) { totalCount nodes { id } } }
  }
}
"""


@dataclass
class Catalog:
    """The decorated demo workspace, as the emulator's plain routes give it."""

    emulator: RunningEmulator
    categories: list[Resource]
    events: list[Resource]
    properties: list[Resource]
    #: Between the seed's last change and the first decoration: ``updated_*`` filters split there.
    decorated_after: str

    def children(self, parent: Resource, kind: str) -> list[Resource]:
        members = self.events if kind == "event" else self.properties
        return [child for child in members if child["parent"] == parent["id"]]


async def _decorate(api: httpx.AsyncClient, path: str, resource: Resource, body: Resource) -> None:
    if body:
        response = await api.patch(f"{path}/{resource['id']}", json=body)
        assert response.status_code == 200, response.text


def _decoration(index: int, tag: int, owner: int, team: int) -> Resource:
    body: Resource = {}
    if index % tag == 0:
        body["tags"] = [TAG, OTHER_TAG] if index % 2 else [TAG]
    if index % owner == 1:
        body["owners"] = [OWNER]
    if index % team == 2:
        body["teams"] = [TEAM]
    return body


@pytest.fixture
async def catalog(emulator_factory: EmulatorFactory, rest: Rest) -> Catalog:
    emulator = await emulator_factory()
    seeded = [
        *await rest(emulator, "/event/category"),
        *await rest(emulator, "/event/events"),
        *await rest(emulator, "/event/event_properties"),
    ]
    async with httpx.AsyncClient(
        base_url=emulator.api_url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}, timeout=10
    ) as api:
        for index, category in enumerate(await rest(emulator, "/event/category")):
            body = _decoration(index, 2, 3, 3)
            if index == 1:
                body.update(pii=True, verified=True, published=True)
            await _decorate(api, "/resource/all", category, body)
        for index, event in enumerate(await rest(emulator, "/event/events")):
            body = _decoration(index, 3, 4, 5)
            if index % 6 == 0:
                body["pii"] = True
            if index in (1, 7, 8):
                body["published"] = False
            await _decorate(api, "/event/events", event, body)
        for index, prop in enumerate(await rest(emulator, "/event/event_properties")):
            body = _decoration(index, 4, 5, 7)
            if index % 3 == 0:
                body["verified"] = True
            if index % 8 == 2:
                body["published"] = True
            await _decorate(api, "/event/event_properties", prop, body)
    return Catalog(
        emulator,
        await rest(emulator, "/event/category"),
        await rest(emulator, "/event/events"),
        await rest(emulator, "/event/event_properties"),
        max(resource["updated_at"] for resource in seeded),
    )


def _contains(field: str, text: str) -> Test:
    return lambda resource: text.casefold() in (resource.get(field) or "").casefold()


def _member(field: str, value: str) -> Test:
    return lambda resource: value in resource.get(field, [])


def _cases(catalog: Catalog) -> list[tuple[dict[str, Any], Test]]:
    """(filter, the test it means) for every filter field and a few combinations."""
    created = sorted(resource["created_at"] for resource in catalog.events)[9]
    changed = catalog.decorated_after
    integration = catalog.categories[-1]["integration"]
    title = catalog.properties[1]["title"]  # a title several events' properties share
    offset = datetime.fromisoformat(created).astimezone(timezone(timedelta(hours=-5))).isoformat()
    return [
        ({"title": title}, lambda r: r["title"] == title),
        ({"title": "Checkout"}, lambda r: r["title"] == "Checkout"),
        ({"titleContains": "PAGE"}, _contains("title", "page")),
        ({"titleContains": ""}, lambda r: True),
        ({"descriptionContains": "Session"}, _contains("description", "session")),
        ({"pii": True}, lambda r: r["pii"] is True),
        ({"pii": False}, lambda r: r["pii"] is False),
        ({"verified": True}, lambda r: r["verified"] is True),
        ({"published": False}, lambda r: r["published"] is False),
        ({"published": True}, lambda r: r["published"] is True),
        ({"tag": TAG}, _member("tags", TAG)),
        ({"tag": OTHER_TAG.replace("-", "").upper()}, _member("tags", OTHER_TAG)),
        ({"owner": OWNER}, _member("owners", OWNER)),
        ({"team": TEAM}, _member("teams", TEAM)),
        ({"integrationId": integration}, lambda r: r["integration"] == integration),
        ({"createdAfter": created}, lambda r: r["created_at"] > created),
        ({"createdAfter": offset}, lambda r: r["created_at"] > created),
        ({"createdBefore": created}, lambda r: r["created_at"] < created),
        ({"updatedAfter": changed}, lambda r: r["updated_at"] > changed),
        ({"updatedBefore": changed}, lambda r: r["updated_at"] < changed),
        (
            {"titleContains": "e", "pii": False, "tag": TAG, "createdBefore": created},
            lambda r: (
                "e" in r["title"] and r["pii"] is False and TAG in r["tags"] and r["created_at"] < created
            ),
        ),
        (
            {"owner": OWNER, "team": TEAM, "updatedAfter": changed},
            lambda r: OWNER in r["owners"] and TEAM in r["teams"] and r["updated_at"] > changed,
        ),
        ({}, lambda r: True),
    ]


def _arranged(resources: list[Resource], order: Order | None) -> list[str]:
    """``resources`` in ``order`` then by id, as the upstream sorts (its date-times sort as text)."""
    keys = [
        (key["field"].lower(), key.get("direction") == "DESC") for key in order or [{"field": "CREATED_AT"}]
    ]

    def compare(a: Resource, b: Resource) -> int:
        for field, descending in keys:
            if a[field] != b[field]:
                return (-1 if a[field] < b[field] else 1) * (-1 if descending else 1)
        return -1 if a["id"] < b["id"] else 1

    return [resource["id"] for resource in sorted(resources, key=cmp_to_key(compare))]


def _nodes(connection: dict[str, Any]) -> list[str]:
    assert connection["totalCount"] == len(connection["nodes"])
    return [node["id"] for node in connection["nodes"]]


def _expected(catalog: Catalog, test: Test, order: Order | None) -> dict[str, Any]:
    def kept(resources: list[Resource]) -> list[str]:
        return _arranged([resource for resource in resources if test(resource)], order)

    return {
        "eventCategories": kept(catalog.categories),
        "events": kept(catalog.events),
        "eventProperties": kept(catalog.properties),
        "everyCategory": {c["id"]: kept(catalog.children(c, "event")) for c in catalog.categories},
        "everyEvent": {e["id"]: kept(catalog.children(e, "event_property")) for e in catalog.events},
    }


def _answered(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventCategories": _nodes(data["eventCategories"]),
        "events": _nodes(data["events"]),
        "eventProperties": _nodes(data["eventProperties"]),
        "everyCategory": {c["id"]: _nodes(c["events"]) for c in data["everyCategory"]["nodes"]},
        "everyEvent": {e["id"]: _nodes(e["properties"]) for e in data["everyEvent"]["nodes"]},
    }


@pytest.mark.parametrize("mode", ["catalog", "per-parent"])
async def test_every_filter_and_order_on_every_list_matches_the_upstream_data(
    catalog: Catalog, gateway_for: GatewayFor, mode: str
) -> None:
    gateway = gateway_for(catalog.emulator, batching=mode)
    cases = _cases(catalog)
    narrowed = 0
    for number, (given, test) in enumerate(cases):
        order = ORDERS[number % len(ORDERS)]
        data = await gateway.data(EVERY_LIST, {"f": given, "ef": given, "pf": given, "o": order})

        expected = _expected(catalog, test, order)
        assert _answered(data) == expected, (given, order)
        sizes = [len(expected[name]) for name in ("eventCategories", "events", "eventProperties")]
        narrowed += 0 < sum(sizes) < len(catalog.categories) + len(catalog.events) + len(catalog.properties)
    assert narrowed >= len(cases) - 3  # the data makes nearly every case keep some and drop some
    for order in ORDERS:  # every order alone, over the whole lists
        data = await gateway.data(EVERY_LIST, {"o": order})
        assert _answered(data) == _expected(catalog, lambda r: True, order), order


async def test_a_filtered_tree_is_one_catalog_call_per_level_and_page(
    catalog: Catalog, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    gateway = gateway_for(catalog.emulator, page_size_hint=5)
    admin = admin_for(catalog.emulator)
    await admin.configure(page_size=5, latency_ms=20)
    query = """{
      eventCategories(filter: {titleContains: "e"}, first: 5) { nodes { id
        events(filter: {published: true}, orderBy: [{field: TITLE, direction: DESC}]) { nodes { id
          properties(filter: {verified: true}, orderBy: [{field: UPDATED_AT}]) { nodes { id } } } } } }
    }"""
    await admin.reset()

    data = await gateway.data(query)

    categories = [c for c in catalog.categories if "e" in c["title"]]
    events = [e for c in categories for e in catalog.children(c, "event") if e["published"]]
    properties = [p for e in events for p in catalog.children(e, "event_property") if p["verified"]]
    answered = data["eventCategories"]["nodes"]
    assert [c["id"] for c in answered] == [c["id"] for c in categories]
    assert sum(len(c["events"]["nodes"]) for c in answered) == len(events)
    assert sum(len(e["properties"]["nodes"]) for c in answered for e in c["events"]["nodes"]) == len(
        properties
    )
    assert min(len(events), len(properties)) > 5  # more than a page at each nested level
    stats = await admin.stats()
    # every parent of a level in one filter; a filtered list has no known count: page 1, then the rest
    calls = 1 + math.ceil(len(events) / 5) + math.ceil(len(properties) / 5)
    assert stats["by_route"] == {"GET /resource/catalog": calls}
    assert stats["rounds"] == 1 + 2 + 2
    settings = Settings(batching="catalog", page_size_hint=5)
    predicted = predict_cost(build_schema(settings)._schema, parse(query), CostModel.from_settings(settings))
    assert predicted is not None
    assert calls <= predicted


async def test_the_per_parent_strategy_filters_locally_what_its_routes_cannot(
    catalog: Catalog, gateway_for: GatewayFor, admin_for: AdminFor
) -> None:
    gateway = gateway_for(catalog.emulator, batching="per-parent")
    admin = admin_for(catalog.emulator)
    query = """query($tag: ID) {
      eventCategories(filter: {tag: $tag}, first: 2) { totalCount nodes { id
        events(filter: {pii: false}) { nodes { id } } } }
    }"""
    await admin.reset()

    data = await gateway.data(query, {"tag": TAG})

    tagged = [c for c in catalog.categories if TAG in c["tags"]]
    assert data["eventCategories"]["totalCount"] == len(tagged)
    assert [c["id"] for c in data["eventCategories"]["nodes"]] == [c["id"] for c in tagged[:2]]
    by_route = (await admin.stats())["by_route"]
    # the whole category list (one page) and each category's whole event list, filtered here
    assert by_route == {"GET /event/category": 1, "GET /event/events": 2}
    settings = Settings(batching="per-parent")
    schema = build_schema(settings)._schema
    predicted = predict_cost(schema, parse(query), CostModel.from_settings(settings), variables={"tag": TAG})
    assert predicted is not None
    assert sum(by_route.values()) <= predicted


async def _pages(gateway: Gateway, query: str, path: list[str], variables: dict[str, Any]) -> list[str]:
    """Every id of a connection, read ``first`` at a time by following its end cursor."""
    ids: list[str] = []
    after: str | None = None
    while True:
        connection = await gateway.data(query, {**variables, "after": after})
        for name in path:
            connection = connection[name]
        ids.extend(node["id"] for node in connection["nodes"])
        assert len(ids) <= 1000
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


@pytest.mark.parametrize("mode", ["catalog", "per-parent"])
async def test_cursors_page_through_an_ordered_list(
    catalog: Catalog, gateway_for: GatewayFor, mode: str
) -> None:
    gateway = gateway_for(catalog.emulator, batching=mode, page_size_hint=50)
    order = [{"field": "TITLE", "direction": "DESC"}]
    page = "pageInfo { hasNextPage endCursor } nodes { id }"
    top = f"""query($f: EventPropertyFilter, $o: [ListOrder!], $after: String) {{
      eventProperties(filter: $f, orderBy: $o, first: 4, after: $after) {{ {page} }} }}"""
    nested = f"""query($id: ID!, $o: [ListOrder!], $after: String) {{
      event(id: $id) {{ properties(filter: {{titleContains: "_"}}, orderBy: $o, first: 2, after: $after) {{
        {page} }} }} }}"""
    event = max(catalog.events, key=lambda e: len(catalog.children(e, "event_property")))

    every = await _pages(gateway, top, ["eventProperties"], {"f": {"titleContains": "_"}, "o": order})
    children = await _pages(gateway, nested, ["event", "properties"], {"id": event["id"], "o": order})

    underscored = [p for p in catalog.properties if "_" in p["title"]]
    assert every == _arranged(underscored, order)
    assert children == _arranged(
        [p for p in catalog.children(event, "event_property") if "_" in p["title"]], order
    )
    assert len(children) > 2


async def test_a_cursor_is_valid_only_for_its_own_filter_and_order(gateway: Gateway) -> None:
    query = """query($o: [ListOrder!], $f: EventFilter, $after: String) {
      events(orderBy: $o, filter: $f, first: 2, after: $after) { pageInfo { endCursor } nodes { id } } }"""
    by_title = [{"field": "TITLE"}]
    stable = (await gateway.data(query))["events"]["pageInfo"]["endCursor"]
    titled = (await gateway.data(query, {"o": by_title}))["events"]["pageInfo"]["endCursor"]

    for variables in (
        {"o": by_title, "after": stable},
        {"after": titled},
        {"f": {"pii": True}, "after": titled},
    ):
        extensions = await gateway.error(query, variables)
        assert extensions["code"] == ErrorCode.BAD_USER_INPUT
        assert extensions["field"] == "after"
    # the same filter and order written another way is the same list; the stable order's cursors are
    # the cursors every list had before filters and orders
    same = [{"field": "CREATED_AT", "direction": "ASC"}]
    assert (await gateway.data(query, {"o": same, "after": stable}))["events"]["nodes"]
    assert (await gateway.data(query, {"o": by_title, "after": titled}))["events"]["nodes"]
    assert stable == "b2Zmc2V0OjE="  # base64 of "offset:1"


async def test_the_deprecated_title_argument_still_narrows(gateway: Gateway) -> None:
    data = await gateway.data(
        """{ eventCategories(title: "Checkout") { nodes { title events(title: "nope") { totalCount }
             also: events(title: "nope", filter: {title: "nope"}) { totalCount } } } }"""
    )
    assert data["eventCategories"]["nodes"] == [
        {"title": "Checkout", "events": {"totalCount": 0}, "also": {"totalCount": 0}}
    ]
    extensions = await gateway.error('{ eventCategories(title: "a", filter: {title: "b"}) { totalCount } }')
    assert extensions["code"] == ErrorCode.BAD_USER_INPUT


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ('filter: {tag: "nope"}', "tag"),
        ('filter: {owner: "1"}', "owner"),
        ('filter: {team: ""}', "team"),
        ('filter: {integrationId: "x"}', "integrationId"),
        ("orderBy: [{field: TITLE}, {field: TITLE, direction: DESC}]", "orderBy"),
    ],
)
async def test_bad_filter_values_are_bad_user_input(gateway: Gateway, arguments: str, field: str) -> None:
    for query in (
        f"{{ events({arguments}) {{ totalCount }} }}",
        f"{{ eventCategories {{ nodes {{ events({arguments}) {{ totalCount }} }} }} }}",
    ):
        extensions = await gateway.error(query)
        assert extensions["code"] == ErrorCode.BAD_USER_INPUT
        assert extensions["field"] == field


async def test_the_readme_search_query_answers_what_the_readme_says(gateway: Gateway) -> None:
    query = README[README.index("query SearchEvents") :].split("```")[0]

    data = await gateway.data(query)

    assert data["events"]["totalCount"] == 3
    assert [(event["title"], event["properties"]["nodes"]) for event in data["events"]["nodes"]] == [
        ("Search Filter Applied", []),
        ("Search Result Clicked", [{"title": "query"}]),
        ("Search Submitted", [{"title": "query"}]),
    ]
