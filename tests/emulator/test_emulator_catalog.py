"""List Resources: the filter grammar (each operator, nesting, errors), sort, teams and the result cap;
and the two assumptions the gateway relies on: comparisons on date-times, membership in id lists."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from events_gateway.emulator import RunningEmulator

from ..conftest import AllPages, EmulatorFactory
from .conftest import ClientFor


async def _catalog(
    api: httpx.AsyncClient, all_pages: AllPages, filter: Any = None, sort: Any = None
) -> list[Any]:
    params = {}
    if filter is not None:
        params["filter"] = json.dumps(filter)
    if sort is not None:
        params["sort"] = json.dumps(sort)
    result: list[Any] = await all_pages(api, "/resource/catalog", **params)
    return result


def _exact(field: str, value: Any) -> dict[str, Any]:
    return {"operator": "exact", "field": field, "value": value}


def _compare(operator: str, field: str, value: Any) -> dict[str, Any]:
    return {"operator": operator, "field": field, "value": value}


async def test_without_filter_every_kind_comes_back(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    everything = await _catalog(api, all_pages)
    assert {r["entity_type"] for r in everything} == {"category", "event", "event_property"}
    assert len(everything) == (await api.get("/resource/catalog")).json()["count"]


@pytest.mark.parametrize("field", ["type", "entity_type"])
@pytest.mark.parametrize("kind", ["category", "event", "event_property"])
async def test_exact_type_and_its_alias(
    api: httpx.AsyncClient, all_pages: AllPages, field: str, kind: str
) -> None:
    found = await _catalog(api, all_pages, _exact(field, kind))
    assert found
    assert {r["entity_type"] for r in found} == {kind}


async def test_default_sort_is_external_usage_descending(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    found = await _catalog(api, all_pages)
    usage = [r["external_usage"] for r in found]
    assert usage == sorted(usage, reverse=True)


async def test_sort_with_tie_breaker(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    sort = {
        "field": "type",
        "order": "asc",
        "tie_breaker": {"field": "title", "order": "desc", "tie_breaker": None},
    }
    found = await _catalog(api, all_pages, sort=sort)
    keys = [(r["entity_type"], r["title"]) for r in found]
    assert keys == sorted(keys, key=lambda k: (k[0], _Desc(k[1])))


class _Desc:
    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value


async def test_contains_is_case_insensitive(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    found = await _catalog(api, all_pages, {"operator": "contains", "field": "title", "value": "CLICKED"})
    assert found
    assert all("clicked" in r["title"].lower() for r in found)


async def test_in_on_parent_id_batches_children_of_many_parents(
    api: httpx.AsyncClient, all_pages: AllPages
) -> None:
    categories = (await api.get("/event/category")).json()["results"][:2]
    ids = [categories[0]["id"], categories[1]["id"].replace("-", "")]
    filter = {
        "operator": "and",
        "operands": [_exact("type", "event"), {"operator": "in", "field": "parent_id", "value": ids}],
    }
    found = await _catalog(api, all_pages, filter)
    assert {r["parent"] for r in found} == {c["id"] for c in categories}
    assert len(found) == sum(c["children_count"] for c in categories)


async def test_in_on_id_and_the_documented_example(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    events = (await api.get("/event/events")).json()["results"][:3]
    found = await _catalog(
        api, all_pages, {"operator": "in", "field": "id", "value": [e["id"] for e in events]}
    )
    assert {r["id"] for r in found} == {e["id"] for e in events}
    example = {
        "operator": "and",
        "operands": [
            {"operator": "contains", "field": "title", "value": events[0]["title"][:5]},
            {"operator": "in", "field": "native_type", "value": ["event", "view"]},
            {"operator": "in", "field": "integration_id", "value": [events[0]["integration"]]},
            {"operator": "in", "field": "parent_id", "value": [events[0]["parent"]]},
        ],
    }
    assert events[0]["id"] in {r["id"] for r in await _catalog(api, all_pages, example)}


async def test_or_not_and_is_set(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    categories = await _catalog(api, all_pages, _exact("type", "category"))
    events = await _catalog(api, all_pages, _exact("type", "event"))
    either = await _catalog(
        api, all_pages, {"operator": "or", "operands": [_exact("type", "category"), _exact("type", "event")]}
    )
    assert len(either) == len(categories) + len(events)
    neither = await _catalog(
        api,
        all_pages,
        {
            "operator": "not",
            "operands": [
                {"operator": "or", "operands": [_exact("type", "category"), _exact("type", "event")]}
            ],
        },
    )
    assert {r["entity_type"] for r in neither} == {"event_property"}
    with_parent = await _catalog(api, all_pages, {"operator": "is_set", "field": "parent_id", "value": None})
    assert {r["entity_type"] for r in with_parent} == {"event", "event_property"}
    without_parent = await _catalog(
        api, all_pages, {"operator": "is_set", "field": "parent_id", "value": False}
    )
    assert {r["entity_type"] for r in without_parent} == {"category"}
    no_parent = await _catalog(api, all_pages, _exact("parent_id", None))
    assert {r["id"] for r in no_parent} == {r["id"] for r in without_parent}


async def test_exact_on_a_boolean_field(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    pii = await _catalog(api, all_pages, _exact("pii", True))
    assert pii
    assert all(r["pii"] for r in pii)


async def test_teams_parameter_restricts_to_a_team(api: httpx.AsyncClient) -> None:
    event = (await api.get("/event/events")).json()["results"][0]
    team = "11111111-2222-3333-4444-555555555555"
    assert (await api.patch(f"/event/events/{event['id']}", json={"teams": [team]})).status_code == 200
    body = (await api.get("/resource/catalog", params={"teams": team})).json()
    assert [r["id"] for r in body["results"]] == [event["id"]]


@pytest.mark.parametrize(
    ("operator", "keeps"),
    [
        ("gt", lambda stamp, middle: stamp > middle),
        ("gte", lambda stamp, middle: stamp >= middle),
        ("lt", lambda stamp, middle: stamp < middle),
        ("lte", lambda stamp, middle: stamp <= middle),
    ],
)
async def test_comparisons_on_a_date_time(
    api: httpx.AsyncClient, all_pages: AllPages, operator: str, keeps: Any
) -> None:
    events = await _catalog(api, all_pages, _exact("type", "event"))
    middle = sorted(event["created_at"] for event in events)[len(events) // 2]
    # the same instant written with an offset: compared as an instant, not as text
    moment = datetime.fromisoformat(middle).astimezone(timezone(timedelta(hours=2))).isoformat()

    found = await _catalog(
        api,
        all_pages,
        {"operator": "and", "operands": [_exact("type", "event"), _compare(operator, "created_at", moment)]},
    )

    expected = [event["id"] for event in events if keeps(event["created_at"], middle)]
    assert sorted(r["id"] for r in found) == sorted(expected)
    assert 0 < len(found) < len(events)


async def test_comparisons_on_a_count_and_an_instant_without_offset(
    api: httpx.AsyncClient, all_pages: AllPages
) -> None:
    used = await _catalog(api, all_pages, _compare("gte", "external_usage", 2500))
    assert used
    assert all(r["external_usage"] >= 2500 for r in used)
    everything = await _catalog(api, all_pages, _compare("gt", "created_at", "2000-01-01T00:00:00"))
    assert len(everything) == (await api.get("/resource/catalog")).json()["count"]


async def test_an_id_list_field_takes_in_and_is_set(api: httpx.AsyncClient, all_pages: AllPages) -> None:
    events = (await api.get("/event/events")).json()["results"]
    tag, other, unused = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
    for event, tags in zip(events, ([tag], [other, tag], [other]), strict=False):
        assert (await api.patch(f"/event/events/{event['id']}", json={"tags": tags})).status_code == 200

    async def ids(filter: Any) -> list[str]:
        return [r["id"] for r in await _catalog(api, all_pages, filter, {"field": "created_at"})]

    assert await ids({"operator": "in", "field": "tags", "value": [tag]}) == [e["id"] for e in events[:2]]
    assert await ids({"operator": "in", "field": "tags", "value": [other, unused]}) == [
        e["id"] for e in events[1:3]
    ]
    assert await ids({"operator": "in", "field": "tags", "value": [tag.replace("-", "")]}) == [
        e["id"] for e in events[:2]
    ]
    assert await ids({"operator": "in", "field": "tags", "value": []}) == []
    assert await ids({"operator": "is_set", "field": "tags", "value": None}) == [e["id"] for e in events[:3]]
    not_set = await ids({"operator": "is_set", "field": "tags", "value": False})
    assert not set(not_set) & {e["id"] for e in events[:3]}
    for field in ("owners", "owners_groups", "teams", "collections", "subscribers"):
        assert await ids({"operator": "in", "field": field, "value": [tag]}) == []


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("filter", json.dumps({"operator": "exact", "field": "tags", "value": "a"})),
        ("filter", json.dumps({"operator": "contains", "field": "owners", "value": "a"})),
        ("filter", json.dumps({"operator": "in", "field": "teams", "value": ["not-a-uuid"]})),
        ("filter", json.dumps({"operator": "in", "field": "teams", "value": "a"})),
        ("filter", json.dumps({"operator": "gt", "field": "tags", "value": "a"})),
        ("filter", json.dumps({"operator": "lt", "field": "pii", "value": True})),
        ("filter", json.dumps({"operator": "gt", "field": "created_at", "value": "yesterday"})),
        ("filter", json.dumps({"operator": "gt", "field": "created_at", "value": 5})),
        ("filter", json.dumps({"operator": "lte", "field": "external_usage", "value": "5"})),
        ("sort", json.dumps({"field": "tags", "order": "asc"})),
        ("filter", "{not json"),
        ("filter", "[]"),
        ("filter", json.dumps({"operator": "exact", "field": "nope", "value": 1})),
        ("filter", json.dumps({"operator": "gte", "field": "title", "value": "a"})),
        ("filter", json.dumps({"operator": "exact", "field": "title"})),
        ("filter", json.dumps({"operator": "in", "field": "title", "value": "a"})),
        ("filter", json.dumps({"operator": "exact", "field": "id", "value": "not-a-uuid"})),
        ("filter", json.dumps({"operator": "contains", "field": "pii", "value": "x"})),
        ("filter", json.dumps({"operator": "exact", "field": "pii", "value": "yes"})),
        ("filter", json.dumps({"operator": "and", "operands": []})),
        (
            "filter",
            json.dumps({"operator": "not", "operands": [_exact("type", "event"), _exact("type", "event")]}),
        ),
        ("filter", json.dumps({"operator": "and", "operands": [{"operator": "bogus"}]})),
        ("sort", "{"),
        ("sort", json.dumps({"field": "nope", "order": "asc"})),
        ("sort", json.dumps({"field": "title", "order": "sideways"})),
        ("sort", json.dumps({"field": "title", "tie_breaker": {"field": "nope"}})),
    ],
)
async def test_bad_filter_or_sort_is_400_naming_the_parameter(
    api: httpx.AsyncClient, param: str, value: str
) -> None:
    response = await api.get("/resource/catalog", params={param: value})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [param]
    assert isinstance(body[param], list)
    assert all(isinstance(m, str) for m in body[param])


async def test_deep_nesting_is_refused(api: httpx.AsyncClient) -> None:
    node: dict[str, Any] = _exact("type", "event")
    for _ in range(40):
        node = {"operator": "not", "operands": [node]}
    response = await api.get("/resource/catalog", params={"filter": json.dumps(node)})
    assert response.status_code == 400


async def test_results_are_capped_and_only_those_served(
    emulator_factory: EmulatorFactory, client_for: ClientFor, all_pages: AllPages
) -> None:
    emulator: RunningEmulator = await emulator_factory(
        seed="scale", scale=(3, 4, 5), catalog_cap=25, page_size=10
    )
    async with client_for(emulator) as api:
        first = (await api.get("/resource/catalog")).json()
        assert first["count"] == 25
        assert first["total_pages"] == 3
        served = await all_pages(api, "/resource/catalog")
        assert len(served) == 25
        assert (await api.get("/resource/catalog", params={"page": 4})).status_code == 404
        # Narrower filters under the cap are complete; the typed lists are not capped.
        categories = (
            await api.get("/resource/catalog", params={"filter": json.dumps(_exact("type", "category"))})
        ).json()
        assert categories["count"] == 3
        assert (await api.get("/event/event_properties")).json()["count"] == 3 * 4 * 5
