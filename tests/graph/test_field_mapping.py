"""Every scalar field of every object type reads the upstream key it should; the cases come from the schema.

For each object type implementing ``Resource`` and each of its scalar fields, the test builds an upstream
resource holding that field's key alone (besides ``id``, ``title`` and ``entity_type``, which every lookup
needs), primes it into a request's by-id loader and asks for every scalar field through the type's lookup
by id. The field must read its value, and every field reading another key must read nothing: a field
reading the wrong key, a swapped pair or a field without a reader fails here, not in production. The
same fields are then compared with what the emulator's REST routes return for real resources.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)

from events_gateway.emulator import RunningEmulator
from events_gateway.graph import build_schema, make_context
from events_gateway.settings import Settings
from events_gateway.upstream import UpstreamClient, UpstreamSettings

#: Where the upstream's name for a field is not the snake_case of its GraphQL name.
UPSTREAM_NAMES = {
    "parentId": "parent",
    "integrationId": "integration",
    "customProperties": "properties",
    "rawType": "type",
}
#: Keys every sample has: a lookup needs them.
BASE_KEYS = ("id", "title", "entity_type")
#: The ``entity_type`` of each type's resources.
ENTITY_TYPES = {"EventCategory": "category", "Event": "event", "EventProperty": "event_property"}
#: Sample values where the key's own meaning constrains them.
SAMPLES: dict[str, Any] = {"type": "number"}

SETTINGS = Settings(upstream_url="http://127.0.0.1:9/api/v1")
SCHEMA = build_schema(SETTINGS)
GRAPHQL_SCHEMA: GraphQLSchema = SCHEMA._schema


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), name)


def upstream_key(field_name: str) -> str:
    return UPSTREAM_NAMES.get(field_name) or snake(field_name)


def resource_types() -> list[GraphQLObjectType]:
    interface = GRAPHQL_SCHEMA.get_type("Resource")
    assert isinstance(interface, GraphQLInterfaceType)
    return list(GRAPHQL_SCHEMA.get_implementations(interface).objects)


def scalar_fields(object_type: GraphQLObjectType) -> dict[str, GraphQLField]:
    return {
        name: field
        for name, field in object_type.fields.items()
        if not field.args and isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
    }


def lookup_field(object_type: GraphQLObjectType) -> str:
    """The ``Query`` field that finds one object of ``object_type`` by id."""
    query = GRAPHQL_SCHEMA.query_type
    assert query is not None
    (name,) = (
        name
        for name, field in query.fields.items()
        if get_named_type(field.type) is object_type and set(field.args) == {"id"}
    )
    return str(name)


def sample(key: str, field: GraphQLField, index: int) -> Any:
    """A value for ``key`` no other key of the same sample could be mistaken for."""
    if key in SAMPLES:
        return SAMPLES[key]
    named = get_named_type(field.type)
    if isinstance(_unwrap(field.type), GraphQLList):
        return [str(uuid.uuid5(uuid.NAMESPACE_URL, key))] if named.name == "ID" else f"{key}-a,{key}-b"
    return {
        "String": f"{key}-text",
        "ID": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        "Int": 1000 + index,
        "Boolean": True,
        "DateTime": f"2024-01-{index % 28 + 1:02d}T0{index % 10}:00:00+00:00",
        "JSON": {"key": key, "nested": [index]},
    }[named.name]


def expected(value: Any, field: GraphQLField) -> Any:
    """What the field serves for an upstream ``value``."""
    named = get_named_type(field.type)
    if isinstance(named, GraphQLEnumType):
        return value.upper()
    if isinstance(_unwrap(field.type), GraphQLList) and isinstance(value, str):
        return [item for item in value.split(",") if item] or None  # the upstream's comma-separated list
    return value


def empty(field: GraphQLField) -> Any:
    """What the field serves when its key is absent."""
    non_null_list = isinstance(field.type, GraphQLNonNull) and isinstance(field.type.of_type, GraphQLList)
    return [] if non_null_list else None


def _unwrap(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def cases() -> Iterator[Any]:
    for object_type in resource_types():
        for name in scalar_fields(object_type):
            if upstream_key(name) not in BASE_KEYS:
                yield pytest.param(object_type.name, name, id=f"{object_type.name}.{name}")


@pytest.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    client = UpstreamClient(UpstreamSettings(base_url=str(SETTINGS.upstream_url)))  # never called
    yield client
    await client.aclose()


async def serve(client: UpstreamClient, type_name: str, resource: dict[str, Any]) -> dict[str, Any]:
    """Every scalar field of ``resource`` as ``type_name``, read through the schema and its executor."""
    object_type = GRAPHQL_SCHEMA.get_type(type_name)
    assert isinstance(object_type, GraphQLObjectType)
    context = make_context(client=client, api_key=None, settings=SETTINGS, request_id="field-mapping")
    context.loaders.by_id.prime(resource["id"], resource)
    selection = " ".join(scalar_fields(object_type))
    query = f"query($id: ID!) {{ one: {lookup_field(object_type)}(id: $id) {{ {selection} }} }}"
    result = await SCHEMA.execute(query, variable_values={"id": resource["id"]}, context_value=context)
    assert result.errors is None, [error.formatted for error in result.errors]
    assert result.data is not None
    served: dict[str, Any] = result.data["one"]
    return served


def base(type_name: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, type_name)),
        "title": f"{type_name} title",
        "entity_type": ENTITY_TYPES[type_name],
    }


@pytest.mark.parametrize(("type_name", "field_name"), list(cases()))
async def test_a_field_reads_its_upstream_key_and_no_other_field_does(
    client: UpstreamClient, type_name: str, field_name: str
) -> None:
    object_type = GRAPHQL_SCHEMA.get_type(type_name)
    assert isinstance(object_type, GraphQLObjectType)
    fields = scalar_fields(object_type)
    key = upstream_key(field_name)
    value = sample(key, fields[field_name], list(fields).index(field_name))
    served = await serve(client, type_name, {**base(type_name), key: value})
    for name, field in fields.items():
        if upstream_key(name) in BASE_KEYS:
            continue
        want = expected(value, field) if upstream_key(name) == key else empty(field)
        assert served[name] == want, f"{type_name}.{name} with only {key!r} set"


async def test_the_base_keys_are_read_by_their_fields(client: UpstreamClient) -> None:
    for object_type in resource_types():
        resource = base(object_type.name)
        served = await serve(client, object_type.name, resource)
        assert (served["id"], served["title"], served["entityType"]) == (
            resource["id"],
            resource["title"],
            resource["entity_type"],
        )


async def test_enum_values_falls_back_to_an_older_upstreams_enum_key(client: UpstreamClient) -> None:
    served = await serve(client, "EventProperty", {**base("EventProperty"), "enum": "free,pro"})
    assert served["enumValues"] == expected("free,pro", scalar_fields(_type("EventProperty"))["enumValues"])


def _type(name: str) -> GraphQLObjectType:
    object_type = GRAPHQL_SCHEMA.get_type(name)
    assert isinstance(object_type, GraphQLObjectType)
    return object_type


#: Each type's REST route in the emulator.
ROUTES = {
    "EventCategory": "/event/category",
    "Event": "/event/events",
    "EventProperty": "/event/event_properties",
}


@pytest.mark.parametrize("type_name", list(ROUTES))
async def test_every_scalar_field_equals_the_upstreams_own_field(
    emulator: RunningEmulator, gateway: Any, rest: Any, type_name: str
) -> None:
    object_type = _type(type_name)
    fields = scalar_fields(object_type)
    upstream = (await rest(emulator, ROUTES[type_name]))[0]
    query = f"query($id: ID!) {{ one: {lookup_field(object_type)}(id: $id) {{ {' '.join(fields)} }} }}"
    served = (await gateway.data(query, {"id": upstream["id"]}))["one"]
    for name, field in fields.items():
        value = upstream[upstream_key(name)]
        if get_named_type(field.type).name == "DateTime" and value is not None:
            assert served[name].replace("+00:00", "Z") == value, name
        else:
            assert served[name] == expected(value, field), name


@pytest.mark.parametrize(
    ("upstream", "served"),
    [("number", "NUMBER"), (" DateTime ", "DATETIME"), ("colour", "OTHER"), ("other", "OTHER"), ("", None)],
)
async def test_an_unknown_property_type_reads_as_other_with_the_raw_string(
    client: UpstreamClient, upstream: str, served: str | None
) -> None:
    got = await serve(client, "EventProperty", {**base("EventProperty"), "type": upstream})
    assert (got["type"], got["rawType"]) == (served, upstream)
