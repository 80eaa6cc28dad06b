"""Which upstream keys a document reads (``graph/projection.py``): the fields it selects anywhere, the
gateway's own keys, and ``None`` (every key) for what the projection cannot vouch for."""

from __future__ import annotations

import pytest
from graphql import parse

from events_gateway.graph.projection import FIELD_KEYS, GATEWAY_KEYS, keys_read

TREE = """{ eventCategories { nodes { id title events { nodes { id title
  properties { nodes { id title type } } } } } } }"""


def read(document: str) -> frozenset[str] | None:
    return keys_read(parse(document))


def test_a_tree_of_titles_reads_only_what_the_gateway_reads_itself() -> None:
    assert read(TREE) == GATEWAY_KEYS


def test_fields_bring_their_keys_under_aliases_and_every_kind_of_fragment() -> None:
    keys = read(
        """query { eventCategories(first: 5) { nodes { flagged: pii ... on Resource { customProperties }
        ...More events(after: "x") { nodes { id } } } } }
        fragment More on EventCategory { tags events { nodes { properties { nodes {
          ... on EventProperty { enumValues } } } } } }"""
    )
    assert keys is not None
    assert {"pii", "properties", "tags", "enum_values", "enum"} <= keys
    assert keys - GATEWAY_KEYS == {"pii", "properties", "tags", "enum_values", "enum"}


def test_lookups_read_the_same_keys_as_lists() -> None:
    assert read('{ node(id: "a") { id ... on Event { description } } }') == GATEWAY_KEYS | {"description"}
    assert read('{ nodes(ids: ["a"]) { id } eventCategory(id: "b") { title } }') == GATEWAY_KEYS


@pytest.mark.parametrize(
    "document",
    [
        "{ eventCategories(filter: {pii: true}) { nodes { id } } }",
        "{ eventCategories { nodes { events(orderBy: [{field: TITLE}]) { nodes { id } } } } }",
        "query($f: EventFilter) { events(filter: $f) { nodes { id } } }",
    ],
)
def test_a_filter_or_an_order_reads_every_key(document: str) -> None:
    """They are tested and sorted in memory, on keys of their own."""
    assert read(document) is None


def test_every_field_of_every_resource_type_names_its_keys() -> None:
    """A resolver field added without an entry in ``RESOLVER_KEYS`` would turn projection off for every
    query that selects it; this says so before it ships."""
    unnamed = [name for name, keys in FIELD_KEYS.items() if keys is None]
    assert unnamed == []
