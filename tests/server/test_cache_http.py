"""The cache as a caller meets it, through a real gateway over the emulator: a repeated query is answered
without executing, another query over the same lists without calling the upstream, the gateway's own
writes show on the next request, edits made elsewhere after ``no-cache`` or the TTL, stale answers say
so, GET answers carry ``max-age``, an ``ETag`` and ``304``, and keys never share an entry.

The emulator's own counters (``/_emulator/stats``) tell whether the upstream was asked.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.server import DEMO_QUERY, PLAN_HEADER

from ..conftest import eventually, retitle_upstream
from ..observability.test_metrics import scrape, total
from ..redis_process import RedisServer
from .conftest import EmulatorFactory, GatewayFactory

#: The demo query's lists, asked for with other fields: the same upstream GETs, another operation.
SAME_LISTS = """query SameLists { eventCategories(first: 10) { nodes { title events(first: 10) {
  nodes { title properties(first: 20) { nodes { title } } } } } } }"""
CATEGORY = """query Category($id: ID!) { eventCategory(id: $id) { id childrenCount
  events { totalCount nodes { id title properties { totalCount nodes { id title } } } } } }"""
FIRST_CATEGORY = (
    "{ eventCategories(first: 1) { nodes { id title events(first: 1) { nodes { id title } } } } }"
)
RENAME = "mutation($e: ID!, $t: String!) { updateEvent(id: $e, input: {title: $t}) { id } }"
#: A second key of the demo workspace: the same data, another caller.
TWIN_KEY = "0f0f0f0f-1111-4222-8333-444444444444"
#: Past a TTL this short, an answer is stale at once (the tests wait it out; nothing asserts a time).
SHORT_TTL = 0.05


def headers(key: str = DEMO_API_KEY, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", PLAN_HEADER: "1", **(extra or {})}


async def ask(
    http: httpx.AsyncClient,
    gateway: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str = DEMO_API_KEY,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A query by POST that must succeed; its whole body (with the call plan)."""
    response = await http.post(
        f"{gateway}/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers(key, extra),
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body


async def upstream_calls(admin: EmulatorAdmin) -> int:
    return int((await admin.stats())["total"])


@pytest.fixture
async def twin_emulator(emulator_factory: EmulatorFactory) -> RunningEmulator:
    """The demo workspace behind two keys."""
    return await emulator_factory(api_keys={DEMO_API_KEY: "demo", TWIN_KEY: "demo"})


async def test_a_repeated_query_is_answered_whole_without_calling_the_upstream(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(upstream_plan="on")
    first = await ask(http, gateway, DEMO_QUERY)
    await emulator_admin.reset()
    second = await ask(http, gateway, DEMO_QUERY)

    assert second["data"] == first["data"]
    assert await upstream_calls(emulator_admin) == 0
    plan = second["extensions"]["upstream"]
    assert (plan["calls"], plan["totalCalls"], plan["cacheHits"]) == ([], 0, 0)
    assert plan["operationCache"]["status"] == "hit"
    assert "cache" not in second["extensions"]  # fresh: nothing to say
    samples = await scrape(http, gateway)
    assert total(samples, "events_gateway_cache_operations_total", status="hit") == 1
    assert total(samples, "events_gateway_cache_operations_total", status="miss") == 1
    assert total(samples, "events_gateway_cache_events_total", tier="memory", event="hit") >= 1
    # an answer served whole still counts as a request, with its name
    assert (
        total(samples, "events_gateway_graphql_requests_total", operation="CategoriesEventsProperties") == 2
    )


async def test_another_query_over_the_same_lists_is_answered_by_the_cached_upstream_answers(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(upstream_plan="on")
    cold = (await ask(http, gateway, DEMO_QUERY))["extensions"]["upstream"]
    await emulator_admin.reset()
    warm = (await ask(http, gateway, SAME_LISTS))["extensions"]["upstream"]

    assert await upstream_calls(emulator_admin) == 0
    assert (warm["totalCalls"], warm["rounds"], warm["failedCalls"]) == (0, 0, 0)
    assert warm["cacheHits"] == cold["totalCalls"] == len(warm["calls"])
    assert [call["route"] for call in warm["calls"]] == [call["route"] for call in cold["calls"]]
    assert all(call["cache"] == "hit" and call["round"] == 0 for call in warm["calls"])
    samples = await scrape(http, gateway)
    assert total(samples, "events_gateway_cache_answers_total", status="hit") == cold["totalCalls"]
    assert total(samples, "events_gateway_upstream_calls_total") == cold["totalCalls"]  # none for the hits


async def test_the_gateways_own_writes_show_on_the_next_request(
    gateway: str, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    category = (await ask(http, gateway, FIRST_CATEGORY))["data"]["eventCategories"]["nodes"][0]
    before = (await ask(http, gateway, CATEGORY, {"id": category["id"]}))["data"]["eventCategory"]
    event_id = before["events"]["nodes"][0]["id"]
    tree_before = (await ask(http, gateway, DEMO_QUERY))["data"]

    created = await ask(
        http,
        gateway,
        'mutation($c: ID!) { createEvent(input: {title: "Cache Busted", categoryId: $c}) { id } }',
        {"c": category["id"]},
    )
    new_id = created["data"]["createEvent"]["id"]
    after_create = (await ask(http, gateway, CATEGORY, {"id": category["id"]}))["data"]["eventCategory"]
    assert after_create["events"]["totalCount"] == before["events"]["totalCount"] + 1
    assert after_create["childrenCount"] == before["childrenCount"] + 1
    assert new_id in [event["id"] for event in after_create["events"]["nodes"]]
    assert (await ask(http, gateway, DEMO_QUERY))["data"] != tree_before  # the whole answer, too

    await ask(
        http,
        gateway,
        'mutation($e: ID!) { createEventProperty(input: {title: "fresh_prop", eventId: $e}) { id } }',
        {"e": event_id},
    )
    await ask(http, gateway, RENAME, {"e": event_id, "t": "Renamed"})
    after_update = (await ask(http, gateway, CATEGORY, {"id": category["id"]}))["data"]["eventCategory"]
    renamed = next(event for event in after_update["events"]["nodes"] if event["id"] == event_id)
    assert renamed["title"] == "Renamed"
    assert "fresh_prop" in [prop["title"] for prop in renamed["properties"]["nodes"]]

    await ask(http, gateway, "mutation($e: ID!) { deleteEvent(id: $e) { deleted } }", {"e": new_id})
    await ask(http, gateway, "mutation($e: ID!) { deleteEvent(id: $e) { deleted } }", {"e": event_id})
    after_delete = (await ask(http, gateway, CATEGORY, {"id": category["id"]}))["data"]["eventCategory"]
    left = [event["id"] for event in after_delete["events"]["nodes"]]
    assert new_id not in left
    assert event_id not in left
    assert after_delete["events"]["totalCount"] == before["events"]["totalCount"] - 1
    gone = await http.post(
        f"{gateway}/graphql",
        json={"query": "query($e: ID!) { event(id: $e) { id } }", "variables": {"e": event_id}},
        headers=headers(),
    )
    assert gone.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_edit_made_elsewhere_shows_with_no_cache_and_then_to_everyone(
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    emulator: RunningEmulator,
) -> None:
    gateway = await gateway_factory(upstream_plan="on")
    await ask(http, gateway, SAME_LISTS)
    category = (await ask(http, gateway, FIRST_CATEGORY))["data"]["eventCategories"]["nodes"][0]
    await retitle_upstream(emulator, category["events"]["nodes"][0]["id"], "Edited Upstream")

    cached = await ask(http, gateway, SAME_LISTS)
    fresh = await ask(http, gateway, SAME_LISTS, extra={"Cache-Control": "no-cache"})
    after = await ask(http, gateway, SAME_LISTS)

    def titles(body: dict[str, Any]) -> list[str]:
        categories = body["data"]["eventCategories"]["nodes"]
        return [event["title"] for item in categories for event in item["events"]["nodes"]]

    assert "Edited Upstream" not in titles(cached)  # within the TTL, the cached answer
    assert "Edited Upstream" in titles(fresh)
    assert fresh["extensions"]["upstream"]["totalCalls"] > 0  # read through: the upstream was asked
    assert fresh["extensions"]["upstream"]["cacheHits"] == 0
    assert "Edited Upstream" in titles(after)  # the read-through answer was filed for everyone after
    assert after["extensions"]["upstream"]["operationCache"]["status"] == "hit"


async def test_an_answer_past_its_ttl_is_served_marked_stale_while_it_is_refreshed(
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    emulator: RunningEmulator,
) -> None:
    gateway = await gateway_factory(upstream_plan="on", cache_ttl=SHORT_TTL)
    first = await ask(http, gateway, FIRST_CATEGORY)
    event = first["data"]["eventCategories"]["nodes"][0]["events"]["nodes"][0]
    await retitle_upstream(emulator, event["id"], "Retitled")
    await asyncio.sleep(SHORT_TTL * 2)  # past the TTL, well within the stale window

    def title(body: dict[str, Any]) -> str:
        return str(body["data"]["eventCategories"]["nodes"][0]["events"]["nodes"][0]["title"])

    stale = await ask(http, gateway, FIRST_CATEGORY)
    assert title(stale) == event["title"]
    assert stale["extensions"]["cache"]["stale"] is True
    assert stale["extensions"]["cache"]["age"] >= SHORT_TTL

    async def refreshed() -> bool:
        return title(await ask(http, gateway, FIRST_CATEGORY)) == "Retitled"

    await eventually(refreshed, "the stale answer was refreshed in the background")
    samples = await scrape(http, gateway)
    assert total(samples, "events_gateway_cache_operations_total", status="stale") >= 1
    assert total(samples, "events_gateway_cache_events_total", event="stale") >= 1
    assert total(samples, "events_gateway_cache_events_total", event="refresh") >= 1
    # the refresh's own calls are counted, though no request waited for them (fewer than the cold ones
    # may do: the planner remembers the lists' sizes)
    cold = first["extensions"]["upstream"]["totalCalls"]
    assert total(samples, "events_gateway_upstream_calls_total") > cold


async def test_while_the_upstream_fails_the_last_answer_is_served_stale(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(upstream_plan="on", cache_ttl=SHORT_TTL, retry_max_attempts=1)
    good = await ask(http, gateway, DEMO_QUERY)
    await emulator_admin.configure(fault_rate=1.0, faults=["500"])
    await asyncio.sleep(SHORT_TTL * 2)

    answers = [await ask(http, gateway, DEMO_QUERY) for _ in range(3)]  # no errors: ``ask`` checks

    for answer in answers:
        assert answer["data"] == good["data"]
        assert answer["extensions"]["cache"]["stale"] is True
    samples = await scrape(http, gateway)
    assert total(samples, "events_gateway_cache_events_total", event="refresh_error") >= 1


async def test_get_answers_carry_their_freshness_an_etag_and_304_when_nothing_changed(
    gateway: str, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin, api_headers: dict[str, str]
) -> None:
    url = f"{gateway}/graphql"
    params = {"query": FIRST_CATEGORY}
    first = await http.get(url, params=params, headers=api_headers)
    tag = first.headers["etag"]
    control = first.headers["cache-control"]
    assert first.status_code == 200
    assert tag.startswith('"')  # strong: no W/
    assert control.startswith("private, max-age=")
    assert 0 <= int(control.rpartition("=")[2]) <= 5

    await emulator_admin.reset()
    again = await http.get(url, params=params, headers={**api_headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"].startswith("private, max-age=")
    assert await upstream_calls(emulator_admin) == 0  # known unchanged without executing

    other = await http.get(url, params=params, headers={**api_headers, "If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.headers["etag"] == tag  # the same bytes for the same caller: the same tag

    event = first.json()["data"]["eventCategories"]["nodes"][0]["events"]["nodes"][0]
    variables = {"e": event["id"], "t": "Renamed Through The Gateway"}
    changed = await http.post(url, json={"query": RENAME, "variables": variables}, headers=api_headers)
    assert "errors" not in changed.json()
    after = await http.get(url, params=params, headers={**api_headers, "If-None-Match": tag})
    assert after.status_code == 200  # the write changed the answer: a new body, a new tag
    assert after.headers["etag"] != tag
    assert (
        after.json()["data"]["eventCategories"]["nodes"][0]["events"]["nodes"][0]["title"] == variables["t"]
    )


async def test_posts_carry_no_etag(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    response = await http.post(f"{gateway}/graphql", json={"query": FIRST_CATEGORY}, headers=api_headers)
    assert "etag" not in response.headers
    assert "cache-control" not in response.headers


async def test_two_keys_of_one_workspace_never_share_an_entry_or_a_tag(
    twin_emulator: RunningEmulator,
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
    admin_for_twin: EmulatorAdmin,
) -> None:
    gateway = await gateway_factory(upstream_url=twin_emulator.api_url, upstream_plan="on")
    mine = await ask(http, gateway, DEMO_QUERY)
    await admin_for_twin.reset()
    theirs = await ask(http, gateway, DEMO_QUERY, key=TWIN_KEY)

    assert theirs["data"] == mine["data"]  # the same workspace...
    assert (
        await upstream_calls(admin_for_twin) == mine["extensions"]["upstream"]["totalCalls"]
    )  # ...asked again
    assert theirs["extensions"]["upstream"]["cacheHits"] == 0
    url, params = f"{gateway}/graphql", {"query": FIRST_CATEGORY}
    tags = [
        (await http.get(url, params=params, headers={"Authorization": f"Bearer {key}"})).headers["etag"]
        for key in (DEMO_API_KEY, TWIN_KEY)
    ]
    assert tags[0] != tags[1]
    crossed = await http.get(
        url, params=params, headers={"Authorization": f"Bearer {TWIN_KEY}", "If-None-Match": tags[0]}
    )
    assert crossed.status_code == 200


@pytest.fixture
async def admin_for_twin(twin_emulator: RunningEmulator) -> Any:
    async with EmulatorAdmin(twin_emulator.url) as admin:
        yield admin


async def test_with_the_ttl_at_zero_nothing_is_cached(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(upstream_plan="on", cache_ttl=0)
    first = await ask(http, gateway, DEMO_QUERY)
    await emulator_admin.reset()
    second = await ask(http, gateway, DEMO_QUERY)

    assert await upstream_calls(emulator_admin) == first["extensions"]["upstream"]["totalCalls"] > 0
    assert second["extensions"]["upstream"]["cacheHits"] == 0
    assert "operationCache" not in second["extensions"]["upstream"]
    response = await http.get(
        f"{gateway}/graphql",
        params={"query": FIRST_CATEGORY},
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
    )
    assert response.headers["cache-control"] == "private"  # no freshness promised


async def test_a_key_the_upstream_refuses_loses_its_entries_on_every_gateway(
    emulator_factory: EmulatorFactory,
    gateway_factory: GatewayFactory,
    emulator: RunningEmulator,
    emulator_admin: EmulatorAdmin,
    redis_server: RedisServer,
    http: httpx.AsyncClient,
) -> None:
    # The same key, valid on one upstream and refused by another; both gateways share one Redis.
    refusing = await emulator_factory(api_keys={TWIN_KEY: "demo"})
    serving = await gateway_factory(redis_url=redis_server.url, upstream_plan="on")
    refused = await gateway_factory(upstream_url=refusing.api_url, redis_url=redis_server.url)
    await ask(http, serving, DEMO_QUERY)
    await emulator_admin.reset()
    assert (await ask(http, serving, SAME_LISTS))["extensions"]["upstream"]["totalCalls"] == 0  # cached

    response = await http.post(f"{refused}/graphql", json={"query": FIRST_CATEGORY}, headers=headers())
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    async def dropped() -> bool:
        plan = (await ask(http, serving, SAME_LISTS))["extensions"]["upstream"]
        return bool(plan["totalCalls"] > 0)

    await eventually(dropped, "the refused key's entries were dropped on the other gateway")
    samples = await scrape(http, refused)
    assert total(samples, "events_gateway_cache_events_total", event="drop") == 1
