"""Automatic persisted queries over real HTTP: the exchange, GET caching, refusals, the store bounds."""

from __future__ import annotations

import json

import httpx
import pytest

from events_gateway.graph import ErrorCode
from events_gateway.server.persisted_queries import (
    MSG_HASH_MISMATCH,
    MemoryQueryStore,
    PersistedQueries,
    sha256_hex,
)

from .conftest import GatewayFactory

JSON = "application/json"
GRAPHQL_JSON = "application/graphql-response+json"
QUERY = "query Titles { eventCategories(first: 2) { nodes { title } } }"


def persisted(query: str | None = None, *, sha: str | None = None, version: int = 1) -> dict[str, object]:
    body: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": version, "sha256Hash": sha or sha256_hex(query or "")}}
    }
    if query is not None:
        body["query"] = query
    return body


def get_params(sha: str, **extra: str) -> dict[str, str]:
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha}})
    return {"extensions": extensions, **extra}


def codes(body: dict[str, object]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]  # type: ignore[attr-defined]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_JSON])
async def test_an_unknown_hash_is_a_200_cue_to_send_the_query(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str], accept: str
) -> None:
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(QUERY)}}}
    response = await http.post(f"{gateway}/graphql", json=body, headers={**api_headers, "Accept": accept})
    assert response.status_code == 200
    answer = response.json()
    assert answer["errors"][0]["message"] == ErrorCode.PERSISTED_QUERY_NOT_FOUND.message
    assert codes(answer) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "data" not in answer
    assert response.headers["cache-control"] == "no-store"


async def test_query_with_hash_runs_and_then_the_hash_alone_runs_it(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    first = await http.post(f"{gateway}/graphql", json=persisted(QUERY), headers=api_headers)
    assert first.status_code == 200
    assert len(first.json()["data"]["eventCategories"]["nodes"]) == 2

    again = await http.post(f"{gateway}/graphql", json=persisted(sha=sha256_hex(QUERY)), headers=api_headers)
    assert again.status_code == 200
    assert again.json() == first.json()


async def test_get_with_the_hash_in_url_encoded_extensions_runs_the_stored_query(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    query = "query Some($n: Int) { eventCategories(first: $n) { nodes { title } } }"
    sha = sha256_hex(query)
    # Before registration: the cue, not GraphiQL, even for a client that accepts anything, as fetch does.
    miss = await http.get(
        f"{gateway}/graphql", params=get_params(sha), headers={**api_headers, "Accept": "*/*"}
    )
    assert miss.status_code == 200
    assert codes(miss.json()) == ["PERSISTED_QUERY_NOT_FOUND"]

    registered = await http.get(
        f"{gateway}/graphql", params=get_params(sha, query=query, variables='{"n": 1}'), headers=api_headers
    )
    assert len(registered.json()["data"]["eventCategories"]["nodes"]) == 1

    hit = await http.get(
        f"{gateway}/graphql", params=get_params(sha, variables='{"n": 3}'), headers=api_headers
    )
    assert hit.status_code == 200
    assert len(hit.json()["data"]["eventCategories"]["nodes"]) == 3
    assert "query=" not in str(hit.request.url)  # the short, cacheable URL a CDN keys on


async def test_a_hash_that_is_not_the_querys_is_refused_and_not_stored(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    wrong = sha256_hex("{ __typename }")
    response = await http.post(f"{gateway}/graphql", json=persisted(QUERY, sha=wrong), headers=api_headers)
    answer = response.json()
    assert answer["errors"][0]["message"] == MSG_HASH_MISMATCH
    assert codes(answer) == ["BAD_REQUEST"]
    assert "data" not in answer

    later = await http.post(f"{gateway}/graphql", json=persisted(sha=wrong), headers=api_headers)
    assert codes(later.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_document_that_does_not_validate_is_not_stored(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    invalid = "{ noSuchField }"
    first = await http.post(f"{gateway}/graphql", json=persisted(invalid), headers=api_headers)
    assert codes(first.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    later = await http.post(
        f"{gateway}/graphql", json=persisted(sha=sha256_hex(invalid)), headers=api_headers
    )
    assert codes(later.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_stored_mutation_is_still_refused_over_get(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    first = await http.post(
        f"{gateway}/graphql",
        json={"query": "{ eventCategories(first: 1) { nodes { integrationId } } }"},
        headers=api_headers,
    )
    integration = first.json()["data"]["eventCategories"]["nodes"][0]["integrationId"]
    mutation = (
        'mutation($i: ID!) { createEventCategory(input: {title: "Persisted once", integrationId: $i}) '
        "{ title } }"
    )
    body = {**persisted(mutation), "variables": {"i": integration}}
    created = await http.post(f"{gateway}/graphql", json=body, headers=api_headers)
    assert created.json()["data"]["createEventCategory"]["title"] == "Persisted once"

    variables = json.dumps({"i": integration})
    response = await http.get(
        f"{gateway}/graphql",
        params=get_params(sha256_hex(mutation), variables=variables),
        headers=api_headers,
    )
    assert response.status_code == 405
    listed = await http.post(
        f"{gateway}/graphql",
        json={"query": '{ eventCategories(title: "Persisted once") { totalCount } }'},
        headers=api_headers,
    )
    assert listed.json()["data"]["eventCategories"]["totalCount"] == 1  # the GET created nothing


@pytest.mark.parametrize("version", [2, 0])
async def test_an_unknown_protocol_version_is_refused(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str], version: int
) -> None:
    response = await http.post(
        f"{gateway}/graphql", json=persisted(QUERY, version=version), headers=api_headers
    )
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_a_malformed_hash_is_refused(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    response = await http.post(f"{gateway}/graphql", json=persisted(sha="not-a-hash"), headers=api_headers)
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_turned_off_every_persisted_request_is_told_so(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    gateway = await gateway_factory(persisted_queries=False)
    for body in (persisted(QUERY), persisted(sha=sha256_hex(QUERY))):
        response = await http.post(
            f"{gateway}/graphql", json=body, headers={**api_headers, "Accept": GRAPHQL_JSON}
        )
        assert response.status_code == 200
        assert response.json()["errors"][0]["message"] == ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED.message
        assert codes(response.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
    plain = await http.post(f"{gateway}/graphql", json={"query": QUERY}, headers=api_headers)
    assert len(plain.json()["data"]["eventCategories"]["nodes"]) == 2


# --- the store -------------------------------------------------------------------------------------


async def test_the_store_drops_the_least_recently_used_past_its_entry_bound() -> None:
    store = MemoryQueryStore(max_entries=2, max_bytes=1_000)
    await store.set("a", "{ a }")
    await store.set("b", "{ b }")
    assert await store.get("a") == "{ a }"  # a is now the most recently used
    await store.set("c", "{ c }")
    assert await store.get("b") is None
    assert await store.get("a") == "{ a }"
    assert await store.get("c") == "{ c }"
    assert len(store) == 2


async def test_the_store_keeps_within_its_byte_bound() -> None:
    store = MemoryQueryStore(max_entries=100, max_bytes=10)
    await store.set("a", "12345")
    await store.set("b", "12345")
    assert store.size_bytes == 10
    await store.set("c", "é")  # two bytes in UTF-8
    assert await store.get("a") is None
    assert store.size_bytes == 7
    await store.set("d", "x" * 11)  # larger than the whole budget: not stored, nothing evicted
    assert await store.get("d") is None
    assert len(store) == 2


async def test_storing_the_same_hash_again_counts_its_bytes_once() -> None:
    store = MemoryQueryStore(max_entries=10, max_bytes=100)
    await store.set("a", "{ a }")
    await store.set("a", "{ a }")
    assert (len(store), store.size_bytes) == (1, 5)


async def test_any_object_with_get_and_set_can_be_the_store() -> None:
    class Shared:
        def __init__(self) -> None:
            self.data: dict[str, str] = {}

        async def get(self, sha256_hash: str) -> str | None:
            return self.data.get(sha256_hash)

        async def set(self, sha256_hash: str, query: str) -> None:
            self.data[sha256_hash] = query

    outcomes: list[str] = []
    shared = Shared()
    apq = PersistedQueries(shared, on_outcome=outcomes.append)
    sha = sha256_hex(QUERY)
    miss = await apq.resolve(None, {"persistedQuery": {"version": 1, "sha256Hash": sha.upper()}})
    assert miss.error is not None
    resolution = await apq.resolve(QUERY, {"persistedQuery": {"version": 1, "sha256Hash": sha}})
    assert resolution.register == sha
    await apq.register(sha, QUERY)
    hit = await apq.resolve(None, {"persistedQuery": {"version": 1, "sha256Hash": sha}})
    assert hit.query == QUERY
    assert shared.data == {sha: QUERY}
    assert outcomes == ["miss", "registered", "hit"]
