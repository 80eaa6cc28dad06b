"""The seven mutations: what they send, what they return, and what later reads of the same request see."""

from __future__ import annotations

from typing import Any

import pytest

from events_gateway.emulator import RunningEmulator

from .conftest import AdminFor, Gateway, Rest

OWNER = "11111111-2222-4333-8444-555555555555"


async def _category(emulator: RunningEmulator, rest: Rest) -> dict[str, Any]:
    return (await rest(emulator, "/event/category"))[0]


async def _event(emulator: RunningEmulator, rest: Rest) -> dict[str, Any]:
    return (await rest(emulator, "/event/events"))[0]


async def test_create_event_category(emulator: RunningEmulator, gateway: Gateway, rest: Rest) -> None:
    integration = (await _category(emulator, rest))["integration"]
    data = await gateway.data(
        f"""mutation($i: ID!) {{ createEventCategory(input: {{title: "Billing", integrationId: $i,
            description: "Invoices", owners: ["{OWNER}"]}}) {{
            id title description integrationId owners }} }}""",
        {"i": integration},
    )
    created = data["createEventCategory"]
    assert created["title"] == "Billing"
    assert created["integrationId"] == integration
    [upstream] = await rest(emulator, f"/event/category/{created['id']}")
    assert upstream["description"] == "Invoices"
    assert upstream["owners"] == [OWNER]


async def test_create_event_defaults_its_integration_to_the_category(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category = await _category(emulator, rest)
    data = await gateway.data(
        """mutation($c: ID!) { createEvent(input: {title: "Refund Issued", categoryId: $c, pii: true}) {
            id title pii integrationId category { id } } }""",
        {"c": category["id"]},
    )
    created = data["createEvent"]
    assert created["integrationId"] == category["integration"]
    assert created["category"] == {"id": category["id"]}
    [upstream] = await rest(emulator, f"/event/events/{created['id']}")
    assert upstream["parent"] == category["id"]
    assert upstream["pii"] is True


async def test_a_created_event_shows_in_lists_read_earlier_in_the_request(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category = await _category(emulator, rest)
    data = await gateway.data(
        """mutation($c: ID!) {{
            before: createEventProperty(input: {{title: "warmup", eventId: "{}"}}) {{
                event {{ category {{ events {{ totalCount }} }} }} }}
            createEvent(input: {{title: "Brand New", categoryId: $c}}) {{
                category {{ childrenCount events {{ totalCount nodes {{ title }} }} }} }}
        }}""".format((await rest(emulator, "/event/events", parent_id=category["id"]))[0]["id"]),
        {"c": category["id"]},
    )
    before = data["before"]["event"]["category"]["events"]["totalCount"]
    after = data["createEvent"]["category"]
    assert after["events"]["totalCount"] == before + 1
    assert after["events"]["nodes"][-1] == {"title": "Brand New"}
    assert after["childrenCount"] == before + 1


async def test_create_event_property_with_its_extras(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    event = await _event(emulator, rest)
    data = await gateway.data(
        """mutation($e: ID!) { createEventProperty(input: {title: "plan", eventId: $e, type: ENUM,
            enumValues: ["free", " pro "], isRequired: true, regex: "^[a-z]+$", isArrayType: false}) {
            id type rawType enumValues isRequired regex isArrayType integrationId event { id } } }""",
        {"e": event["id"]},
    )
    created = data["createEventProperty"]
    assert (created["type"], created["rawType"], created["enumValues"]) == ("ENUM", "enum", ["free", "pro"])
    assert created["event"] == {"id": event["id"]}
    assert created["integrationId"] == event["integration"]
    [upstream] = await rest(emulator, f"/event/event_properties/{created['id']}")
    assert (upstream["type"], upstream["enum_values"], upstream["is_required"], upstream["regex"]) == (
        "enum",
        "free,pro",
        True,
        "^[a-z]+$",
    )


async def test_update_sends_only_the_given_fields(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    event = await _event(emulator, rest)
    await gateway.data(
        f"""mutation($id: ID!) {{ updateEvent(id: $id,
            input: {{definition: "# Docs", owners: ["{OWNER}"]}}) {{ id }} }}""",
        {"id": event["id"]},
    )
    [upstream] = await rest(emulator, f"/event/events/{event['id']}")
    assert upstream["definition"] == "# Docs"
    assert upstream["owners"] == [OWNER]
    assert upstream["description"] == event["description"]  # absent: left alone
    assert upstream["title"] == event["title"]


async def test_update_with_explicit_null_clears_the_field(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    event = await _event(emulator, rest)
    assert event["description"]
    data = await gateway.data(
        """mutation($id: ID!) { updateEvent(id: $id, input: {description: null, tags: null}) {
            description tags } }""",
        {"id": event["id"]},
    )
    assert data["updateEvent"] == {"description": "", "tags": []}
    [upstream] = await rest(emulator, f"/event/events/{event['id']}")
    assert upstream["description"] == ""
    assert upstream["title"] == event["title"]


@pytest.mark.parametrize(
    ("field", "mutation"),
    [("title", "updateEvent"), ("pii", "updateEvent"), ("isArrayType", "updateEventProperty")],
)
async def test_explicit_null_on_a_field_that_cannot_be_cleared_is_refused_by_name(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest, field: str, mutation: str
) -> None:
    event = await _event(emulator, rest)
    target = event["id"]
    if mutation == "updateEventProperty":
        target = (await rest(emulator, "/event/event_properties", parent_id=event["id"]))[0]["id"]
    result = await gateway.run(
        f"mutation($id: ID!) {{ {mutation}(id: $id, input: {{{field}: null}}) {{ id }} }}", {"id": target}
    )
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions is not None
    assert (error.extensions["code"], error.extensions["field"]) == ("BAD_USER_INPUT", field)
    assert "Maybe" not in error.message
    assert gateway.contexts[-1].calls == []  # refused before any upstream call


async def test_updated_objects_are_read_fresh_in_the_same_request(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    event = await _event(emulator, rest)
    data = await gateway.data(
        """mutation($id: ID!) {
            updateEvent(id: $id, input: {verified: true}) {
                verified category { events { nodes { id verified } } } }
        }""",
        {"id": event["id"]},
    )
    nodes = {n["id"]: n["verified"] for n in data["updateEvent"]["category"]["events"]["nodes"]}
    assert nodes[event["id"]] is True


async def test_update_event_property(emulator: RunningEmulator, gateway: Gateway, rest: Rest) -> None:
    prop = (await rest(emulator, "/event/event_properties"))[0]
    data = await gateway.data(
        """mutation($id: ID!) { updateEventProperty(id: $id, input: {isRequired: false, type: NUMBER,
            title: "renamed"}) { title type isRequired } }""",
        {"id": prop["id"]},
    )
    assert data["updateEventProperty"] == {"title": "renamed", "type": "NUMBER", "isRequired": False}
    [upstream] = await rest(emulator, f"/event/event_properties/{prop['id']}")
    assert (upstream["title"], upstream["type"]) == ("renamed", "number")


async def test_enum_values_are_a_list_both_ways_and_null_clears_them(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    prop = (await rest(emulator, "/event/event_properties"))[0]
    update = """mutation($id: ID!, $values: [String!]) {
        updateEventProperty(id: $id, input: {type: ENUM, enumValues: $values}) { enumValues } }"""
    data = await gateway.data(update, {"id": prop["id"], "values": ["email", "sms"]})
    assert data["updateEventProperty"] == {"enumValues": ["email", "sms"]}
    [upstream] = await rest(emulator, f"/event/event_properties/{prop['id']}")
    assert upstream["enum_values"] == "email,sms"  # the upstream's own encoding

    cleared: list[str] | None
    for cleared in (None, []):
        data = await gateway.data(update, {"id": prop["id"], "values": cleared})
        assert data["updateEventProperty"] == {"enumValues": None}
        [upstream] = await rest(emulator, f"/event/event_properties/{prop['id']}")
        assert upstream["enum_values"] == ""


async def test_a_property_field_is_not_part_of_an_events_update(gateway: Gateway) -> None:
    # refused by validation, before anything runs: each kind's input has only its own fields
    result = await gateway.run(
        'mutation { updateEvent(id: "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f", input: {isRequired: true}) '
        "{ id } }"
    )
    assert result.data is None
    assert result.errors is not None
    assert "isRequired" in result.errors[0].message
    assert result.errors[0].path is None


async def test_delete_event_is_gone_from_later_reads(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category = await _category(emulator, rest)
    events = await rest(emulator, "/event/events", parent_id=category["id"])
    doomed, other = events[0]["id"], events[1]["id"]
    data = await gateway.data(
        """mutation($doomed: ID!, $other: ID!) {
            before: updateEvent(id: $other, input: {pii: false}) {
                category { events { totalCount nodes { id } } } }
            deleteEvent(id: $doomed) { id deleted }
            after: updateEvent(id: $other, input: {pii: true}) {
                category { events { totalCount nodes { id } } } }
        }""",
        {"doomed": doomed, "other": other},
    )
    assert data["deleteEvent"] == {"id": doomed, "deleted": True}
    before, after = data["before"]["category"]["events"], data["after"]["category"]["events"]
    assert doomed in [node["id"] for node in before["nodes"]]
    assert [node["id"] for node in after["nodes"]] == [n["id"] for n in before["nodes"] if n["id"] != doomed]
    assert after["totalCount"] == before["totalCount"] - 1
    assert await gateway.contexts[-1].loaders.by_id.load(doomed) is None
    assert [e["id"] for e in await rest(emulator, "/event/events", parent_id=category["id"])] == [
        e["id"] for e in events[1:]
    ]


async def test_a_deleted_object_is_not_found_later_in_the_request(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    prop = (await rest(emulator, "/event/event_properties"))[0]
    result = await gateway.run(
        """mutation($id: ID!) {
            deleteEventProperty(id: $id) { id deleted }
            updateEventProperty(id: $id, input: {isRequired: true}) { id }
        }""",
        {"id": prop["id"]},
    )
    assert result.data is None  # the second field is non-null, so its NOT_FOUND nulls the whole data
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "NOT_FOUND"}
    assert result.errors[0].path == ["updateEventProperty"]
    remaining = await rest(emulator, "/event/event_properties", parent_id=prop["parent"])
    assert prop["id"] not in [p["id"] for p in remaining]


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ('createEventCategory(input: {title: "  ", integrationId: "%(uuid)s"}) { id }', "title"),
        ('createEventCategory(input: {title: "A", integrationId: "nope"}) { id }', "integrationId"),
        ('createEvent(input: {title: "A", categoryId: "%(uuid)s", owners: ["bad"]}) { id }', "owners"),
        ('createEvent(input: {title: "A", categoryId: "nope"}) { id }', "categoryId"),
        ('createEventProperty(input: {title: "A", eventId: "%(uuid)s", type: OTHER}) { id }', "type"),
        ('createEventProperty(input: {title: "A", eventId: "%(uuid)s", type: ENUM}) { id }', "enumValues"),
        (
            'createEventProperty(input: {title: "A", eventId: "%(uuid)s", type: ENUM, enumValues: []}) '
            "{ id }",
            "enumValues",
        ),
        (
            'createEventProperty(input: {title: "A", eventId: "%(uuid)s", enumValues: ["a,b"]}) { id }',
            "enumValues",
        ),
        (
            'createEventProperty(input: {title: "A", eventId: "%(uuid)s", enumValues: [" "]}) { id }',
            "enumValues",
        ),
        ('updateEventProperty(id: "%(uuid)s", input: {type: OTHER}) { id }', "type"),
        ('createEventProperty(input: {title: "A", eventId: "%(uuid)s", regex: "(("}) { id }', "regex"),
        ('updateEvent(id: "%(uuid)s", input: {title: ""}) { id }', "title"),
        ('updateEventProperty(id: "x", input: {pii: true}) { id }', "id"),
        ('deleteEvent(id: "x") { id }', "id"),
        ('deleteEventProperty(id: "12") { id }', "id"),
    ],
)
async def test_inputs_are_checked_before_any_call(
    emulator: RunningEmulator, gateway: Gateway, admin_for: AdminFor, mutation: str, field: str
) -> None:
    admin = admin_for(emulator)
    await admin.reset()
    result = await gateway.run(
        "mutation { " + mutation % {"uuid": "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"} + " }"
    )
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions is not None
    assert error.extensions["code"] == "BAD_USER_INPUT"
    assert error.extensions["field"] == field
    assert field in error.extensions["fieldErrors"]
    assert (await admin.stats())["total"] == 0


async def test_create_event_under_a_missing_category_is_bad_user_input(gateway: Gateway) -> None:
    extensions = await gateway.error(
        'mutation { createEvent(input: {title: "A", categoryId: "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"}) '
        "{ id } }"
    )
    assert (extensions["code"], extensions["field"]) == ("BAD_USER_INPUT", "categoryId")


async def test_upstream_validation_errors_name_the_input_field(
    emulator: RunningEmulator, gateway: Gateway, rest: Rest
) -> None:
    category = await _category(emulator, rest)
    extensions = await gateway.error(
        """mutation($c: ID!) { createEvent(input: {title: "A", categoryId: $c,
            integrationId: "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"}) { id } }""",
        {"c": category["id"]},
    )
    assert extensions["code"] == "BAD_USER_INPUT"
    assert "integrationId" in extensions["fieldErrors"]
    assert all(isinstance(message, str) for message in extensions["fieldErrors"]["integrationId"])
