"""Every route of the client against the real emulator over loopback: what is sent, and what is read."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.upstream import (
    EVENT,
    STABLE_SORT,
    NotFound,
    UpstreamCall,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    and_,
    contains,
    exact,
    in_,
)

EmulatorFactory = Callable[..., Awaitable[RunningEmulator]]


def _is_canonical_uuid(value: object) -> bool:
    return isinstance(value, str) and str(uuid.UUID(value)) == value


async def _first_category(session: UpstreamSession) -> dict[str, object]:
    return (await session.list_event_categories()).results[0]


async def test_categories_list_get_and_create(session: UpstreamSession) -> None:
    page = await session.list_event_categories()
    assert page.page == 1
    assert page.count == len(page.results) > 0
    assert page.next_url is None
    first = page.results[0]
    assert _is_canonical_uuid(first["id"])
    assert first["parent"] is None

    titled = await session.list_event_categories(title=str(first["title"]))
    assert [c["id"] for c in titled.results] == [first["id"]]

    assert (await session.get_event_category(str(first["id"])))["title"] == first["title"]

    integration = str(first["integration"])
    created = await session.create_event_category({"title": "Checkout", "integration": integration})
    assert created["title"] == "Checkout"
    assert (await session.get_event_category(created["id"]))["id"] == created["id"]


async def test_event_lifecycle(session: UpstreamSession) -> None:
    category = await _first_category(session)
    body = {"title": "Signed Up", "parent": category["id"], "integration": category["integration"]}
    event = await session.create_event(body)
    assert event["parent"] == category["id"]

    listed = await session.list_events(parent_id=str(category["id"]), title="Signed Up")
    assert [e["id"] for e in listed.results] == [event["id"]]

    assert (await session.get_event(event["id"]))["title"] == "Signed Up"
    updated = await session.update_event(event["id"], {"description": "A user created an account."})
    assert updated["description"] == "A user created an account."

    await session.delete_event(event["id"])
    with pytest.raises(NotFound):
        await session.get_event(event["id"])


async def test_event_property_lifecycle(session: UpstreamSession) -> None:
    event = (await session.list_events()).results[0]
    body = {"title": "plan", "parent": event["id"], "integration": event["integration"], "type": "string"}
    prop = await session.create_event_property(body)
    assert prop["parent"] == event["id"]

    listed = await session.list_event_properties(parent_id=event["id"], title="plan")
    assert [p["id"] for p in listed.results] == [prop["id"]]
    assert (await session.get_event_property(prop["id"]))["title"] == "plan"
    updated = await session.update_event_property(prop["id"], {"pii": True})
    assert updated["pii"] is True

    await session.delete_event_property(prop["id"])
    with pytest.raises(NotFound):
        await session.get_event_property(prop["id"])


async def test_ids_in_any_spelling_are_sent_hyphenated_lower_case(
    session: UpstreamSession, recorded: list[httpx.Request]
) -> None:
    category = await _first_category(session)
    bare_upper = uuid.UUID(str(category["id"])).hex.upper()

    assert (await session.get_event_category(bare_upper))["id"] == category["id"]
    events = await session.list_events(parent_id=bare_upper)

    assert events.results
    assert all(e["parent"] == category["id"] for e in events.results)
    assert recorded[-2].url.path.endswith(f"/event/category/{category['id']}/")
    assert recorded[-1].url.params["parent_id"] == category["id"]


async def test_an_id_that_is_not_a_uuid_cannot_add_a_path_segment(
    session: UpstreamSession, recorded: list[httpx.Request]
) -> None:
    with pytest.raises(NotFound):
        await session.get_event("../category")
    assert recorded[-1].url.raw_path.endswith(b"/event/events/..%2Fcategory/")


async def test_catalog_batches_children_of_many_parents(
    session: UpstreamSession, calls: list[UpstreamCall], recorded: list[httpx.Request]
) -> None:
    categories = (await session.list_event_categories()).results
    parents = [str(c["id"]) for c in categories[:2]]
    filter_ = and_(exact("type", EVENT), in_("parent_id", parents))

    page = await session.list_resources(filter=filter_, sort=STABLE_SORT, batch_size=len(parents))

    assert page.results
    assert {e["parent"] for e in page.results} == set(parents)
    assert calls[-1].route == "GET /resource/catalog"
    assert calls[-1].batch_size == 2
    sent = recorded[-1].url
    assert sent.params["filter"] == (
        '{"operator":"and","operands":[{"operator":"exact","field":"type","value":"event"},'
        '{"operator":"in","field":"parent_id","value":["' + '","'.join(parents) + '"]}]}'
    )
    assert sent.params["sort"].startswith('{"field":"created_at","order":"asc"')


async def test_url_length_is_exactly_what_is_sent(
    session: UpstreamSession, recorded: list[httpx.Request]
) -> None:
    parents = [str(uuid.UUID(int=n)) for n in range(40)]
    filter_ = and_(
        exact("type", EVENT), contains("title", "tïtle, spaces & ? # %"), in_("parent_id", parents)
    )

    predicted = session.resources_url_length(filter=filter_, sort=STABLE_SORT, page=3)
    await session.list_resources(filter=filter_, sort=STABLE_SORT, page=3)

    assert predicted == len(str(recorded[-1].url).encode())


async def test_get_resource_and_integrations(session: UpstreamSession) -> None:
    event = (await session.list_events()).results[0]
    assert (await session.get_resource(event["id"]))["id"] == event["id"]

    integrations = await session.list_integrations()
    assert integrations.count == len(integrations.results) >= 1
    first = integrations.results[0]
    assert (await session.get_integration(first["id"]))["name"] == first["name"]


async def test_pagination_follows_next_until_the_end(emulator_factory: EmulatorFactory) -> None:
    running = await emulator_factory(page_size=2)
    client = UpstreamClient(UpstreamSettings(running.api_url))
    try:
        calls: list[UpstreamCall] = []
        session = client.session(DEMO_API_KEY, observer=calls.append)
        page = await session.list_event_categories()
        seen = [c["id"] for c in page.results]
        while page.next_url:
            page = await session.follow(page.next_url)
            seen.extend(c["id"] for c in page.results)

        assert page.total_pages is not None
        assert page.page == page.total_pages
        assert len(seen) == len(set(seen)) == page.count
        assert {call.route for call in calls} == {"GET /event/category"}
        # a page past the last one is the end of the list, not a missing object
        past = await session.list_event_categories(page=page.total_pages + 1)
        assert past.results == []
        assert past.next_url is None
    finally:
        await client.aclose()


async def test_every_request_has_a_trailing_slash_and_the_right_headers(
    session: UpstreamSession, recorded: list[httpx.Request]
) -> None:
    category = await _first_category(session)
    event = await session.create_event(
        {"title": "Headers", "parent": category["id"], "integration": category["integration"]}
    )
    await session.update_event(event["id"], {"pii": True})
    await session.delete_event(event["id"])
    await session.list_resources(filter=exact("type", EVENT))

    assert len(recorded) == 5
    for request in recorded:
        assert request.url.path.endswith("/")
        assert request.headers["Authorization"] == f"Bearer {DEMO_API_KEY}"
        assert request.headers["Accept"] == "application/json"
        if request.method in ("POST", "PATCH"):
            assert request.headers["Content-Type"] == "application/json"
        else:
            assert "Content-Type" not in request.headers


async def test_observer_sees_route_templates_statuses_and_times(
    session: UpstreamSession, calls: list[UpstreamCall]
) -> None:
    category = await _first_category(session)
    await session.get_event_category(str(category["id"]))
    with pytest.raises(NotFound):
        await session.get_event(str(uuid.uuid4()))

    assert [(c.method, c.route, c.status) for c in calls] == [
        ("GET", "GET /event/category", 200),
        ("GET", "GET /event/category/{id}", 200),
        ("GET", "GET /event/events/{id}", 404),
    ]
    assert all(c.started <= c.ended for c in calls)


async def test_a_failing_observer_does_not_fail_the_call(client: UpstreamClient) -> None:
    def broken(call: UpstreamCall) -> None:
        raise RuntimeError("observer bug")

    page = await client.session(DEMO_API_KEY, observer=broken).list_event_categories()
    assert page.results


async def test_healthcheck(client: UpstreamClient, emulator: RunningEmulator) -> None:
    assert await client.healthcheck() is True


@pytest.mark.parametrize(
    "base",
    ["http://127.0.0.1:8000/api/v1", "https://api.secoda.co/api/v1/", "http://[::1]:9/x", "https://h.test"],
)
@pytest.mark.parametrize(
    "params",
    [
        None,
        {"page": 1},
        {"title": "Ünïcode & spaces + = # % / ?", "parent_id": None, "page": 12},
        {"filter": '{"operator":"in","field":"id","value":["a","b"]}', "sort": '{"field":"id"}', "page": 2},
    ],
)
def test_assembled_urls_equal_what_httpx_parses(base: str, params: dict[str, object] | None) -> None:
    """Request URLs are assembled from parts rather than parsed; they must be the very URL httpx would
    build from the text, which is also the text whose length loaders budget for."""
    from events_gateway.upstream._urls import UrlBuilder

    builder = UrlBuilder(httpx.URL(base))
    assert builder._assemble  # the fast path is the one in use
    assembled = builder.url("/event/events/abc%2F..", params)
    parsed = httpx.URL(builder.text("/event/events/abc%2F..", params))
    assert assembled == parsed
    assert str(assembled) == str(parsed) == builder.text("/event/events/abc%2F..", params)
    assert assembled.raw_path == parsed.raw_path
    assert assembled.params == parsed.params
