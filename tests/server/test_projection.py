"""List pages decoded with only the keys a query reads: the same answers as whole pages, through a real
gateway over the emulator, for every field of every resource type.

The comparison runs each query twice: as written (its pages projected) and with an empty ``filter`` on
its root list, an argument the projection does not vouch for, so that run decodes every key. Both are
single queries over fresh requests with the cache off, so nothing but the decoding differs.
"""

from __future__ import annotations

from typing import Any

import httpx
from graphql import parse
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition

from events_gateway.emulator import DEMO_API_KEY
from events_gateway.graph.projection import keys_read
from events_gateway.graph.types import Event, EventProperty

from .conftest import GatewayFactory


def _scalar_fields(cls: type) -> list[str]:
    """The GraphQL names of the fields of ``cls`` read from its own upstream object (no resolver)."""
    names = NameConverter()
    fields = get_object_definition(cls, strict=True).fields
    plain = [field for field in fields if field.base_resolver is None and field.name != "type"]
    return [names.from_field(field) for field in plain]


EVERY_EVENT_FIELD = " ".join(_scalar_fields(Event))
PROPERTY_ONLY = " ".join(sorted(set(_scalar_fields(EventProperty)) - set(_scalar_fields(Event))))
#: Every field of every resource type, through an interface fragment, a named fragment, an inline one
#: and aliases; ``ROOT`` is replaced by the root list's arguments.
EVERYTHING = f"""
query Everything {{
  eventCategories ROOT {{
    nodes {{
      ...AllOfResource
      events {{ nodes {{ ...AllOfResource category {{ id }}
        first: properties(first: 2) {{ nodes {{ id }} }}
        properties {{ nodes {{ ...AllOfResource
          ... on EventProperty {{ type {PROPERTY_ONLY} event {{ id }} }} }} }}
      }} }}
    }}
  }}
}}
fragment AllOfResource on Resource {{ {EVERY_EVENT_FIELD} also: pii }}
"""
#: A few fields only: the usual shape of a tree query.
TITLES = """query Titles { eventCategories ROOT { nodes { id title events { nodes { id title
  properties { nodes { id title type } } } } } } }"""


async def _data(http: httpx.AsyncClient, gateway: str, document: str) -> dict[str, Any]:
    response = await http.post(
        f"{gateway}/graphql",
        json={"query": document},
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_projected_pages_answer_exactly_as_whole_pages_for_every_field(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(cache_ttl=0)
    for document in (EVERYTHING, TITLES):
        projected, whole = document.replace("ROOT", ""), document.replace("ROOT", "(filter: {})")
        assert keys_read(parse(projected)) is not None
        assert keys_read(parse(whole)) is None

        assert await _data(http, gateway, projected) == await _data(http, gateway, whole)


async def test_the_comparison_sees_real_values_in_every_kind_of_field(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    """So that equal answers mean something: the demo data fills dates, lists, flags and the
    property-only fields, and the nested lists are not empty."""
    gateway = await gateway_factory(cache_ttl=0)
    data = await _data(http, gateway, EVERYTHING.replace("ROOT", ""))
    events = [event for category in data["eventCategories"]["nodes"] for event in category["events"]["nodes"]]
    properties = [item for event in events for item in event["properties"]["nodes"]]

    assert events
    assert properties
    assert all(event["createdAt"] and event["category"]["id"] for event in events)
    assert any(item["type"] for item in properties)
    pairs = [(event, item) for event in events for item in event["properties"]["nodes"]]
    assert all(item["event"]["id"] == event["id"] for event, item in pairs)
    assert all(isinstance(item["bookmarkedBy"], list) for item in properties)
