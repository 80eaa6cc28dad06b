"""Property tests: documents generated from the schema the gateway serves, posted over loopback to a real
gateway in front of a real emulator. Whatever the document asks — any root field, nested selections,
odd strings, huge or negative numbers, real and made-up ids, every mutation — the answer is a GraphQL
response whose every error has an ``extensions.code``, never a 5xx and never ``INTERNAL_SERVER_ERROR``.

The run here is short and derandomized, so CI sees the same documents each time; ``bench/fuzz.py`` runs
the same properties for longer with fresh randomness and prints what it tried.
"""

from __future__ import annotations

from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from events_gateway.emulator import DEMO_API_KEY

AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}", "Accept": "application/graphql-response+json"}

#: Every id the demo catalogue holds, by kind, in one query.
IDS_QUERY = """{ eventCategories { nodes { id integrationId events { nodes { id
  properties { nodes { id } } } } } } }"""


FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    # The servers start once per test and serve every example; each example is a real HTTP round trip.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


async def served_schema(gateway: str, http: httpx.AsyncClient) -> graphql.GraphQLSchema:
    """The schema as a client sees it: introspected over HTTP, not imported."""
    response = await http.post(
        f"{gateway}/graphql", json={"query": graphql.get_introspection_query()}, headers=AUTH
    )
    return graphql.build_client_schema(response.json()["data"])


async def demo_ids(gateway: str, http: httpx.AsyncClient) -> list[str]:
    response = await http.post(f"{gateway}/graphql", json={"query": IDS_QUERY}, headers=AUTH)
    ids: set[str] = set()
    for category in response.json()["data"]["eventCategories"]["nodes"]:
        ids |= {category["id"], category["integrationId"]}
        for event in category["events"]["nodes"]:
            ids.add(event["id"])
            ids |= {prop["id"] for prop in event["properties"]["nodes"]}
    return sorted(ids)


def id_values(known: list[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """Real ids half the time (so lookups, updates and deletes reach real objects), else anything."""
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(known),
        st.uuids().map(str),
        st.text(max_size=40),
    ).map(nodes.String)


def check(response: httpx.Response, document: str) -> dict[str, Any]:
    """The properties every answer has; returns the body for further checks."""
    assert response.status_code < 500, (response.status_code, document, response.text)
    body: dict[str, Any] = response.json()
    for error in body.get("errors", ()):
        code = (error.get("extensions") or {}).get("code")
        assert code, (document, error)
        assert code != "INTERNAL_SERVER_ERROR", (document, error)
    assert "data" in body or body.get("errors"), (document, body)
    return body


@pytest.fixture
async def fuzz_target(gateway: str, http: httpx.AsyncClient) -> tuple[graphql.GraphQLSchema, list[str]]:
    return await served_schema(gateway, http), await demo_ids(gateway, http)


async def test_the_served_schema_yields_ids_to_fuzz_with(
    fuzz_target: tuple[graphql.GraphQLSchema, list[str]],
) -> None:
    schema, ids = fuzz_target
    assert schema.mutation_type is not None
    assert len(ids) > 20


@FUZZ
@given(data=st.data())
async def test_valid_documents_get_coded_answers_never_5xx(
    gateway: str,
    http: httpx.AsyncClient,
    fuzz_target: tuple[graphql.GraphQLSchema, list[str]],
    data: st.DataObject,
) -> None:
    schema, ids = fuzz_target
    document = data.draw(from_schema(schema, custom_scalars={"ID": id_values(ids)}), label="document")
    response = await http.post(f"{gateway}/graphql", json={"query": document}, headers=AUTH)
    body = check(response, document)
    if "data" not in body:
        # Only the query limits refuse a document that is valid by the SDL before it runs.
        assert {error["extensions"]["code"] for error in body["errors"]} == {"QUERY_TOO_COMPLEX"}, (
            [error["message"] for error in body["errors"]],
            document,
        )
        return
    # Otherwise a valid document runs: data is there (null only when a non-null root field failed).
    assert response.status_code == 200


@FUZZ
@given(data=st.data())
async def test_invalid_documents_are_refused_with_a_code_never_run(
    gateway: str,
    http: httpx.AsyncClient,
    fuzz_target: tuple[graphql.GraphQLSchema, list[str]],
    data: st.DataObject,
) -> None:
    schema, ids = fuzz_target
    strategy = from_schema(schema, custom_scalars={"ID": id_values(ids)}, mode=Mode.NEGATIVE)
    document = data.draw(strategy, label="document")
    response = await http.post(f"{gateway}/graphql", json={"query": document}, headers=AUTH)
    body = check(response, document)
    assert "data" not in body, (document, body)
    assert response.status_code == 400
