"""Relay: ``relay-compiler`` compiles a ``@refetchable`` fragment on ``Event`` and a ``@connection`` fragment
on ``EventCategory.events`` (the shape ``usePaginationFragment`` takes) against ``schema.graphql``, and
``relay-runtime`` runs them against a gateway: the first page, ``loadNext``'s pagination query from the end
cursor, and ``refetch``'s query through ``Query.node`` (``clients/relay/``)."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import Clients, Served

pytestmark = pytest.mark.clients


async def test_relay_compiles_refetchable_and_pagination_fragments_and_runs_them(
    clients: Clients, served: Served
) -> None:
    async with httpx.AsyncClient(
        base_url=served.emulator.api_url, headers={"Authorization": f"Bearer {served.key}"}
    ) as rest:
        categories = (await rest.get("/event/category")).json()["results"]
        category = categories[0]
        events = (await rest.get("/event/events", params={"parent_id": category["id"]})).json()["results"]
    assert len(events) >= 3  # a first page of two, and a next page

    await clients.run("npm", "run", "--silent", "relay:compile")
    output = await clients.run(
        "node",
        "relay/run.mjs",
        category["id"],
        env={"GATEWAY_URL": served.url, "GATEWAY_KEY": served.key},
    )
    result = json.loads(output)

    ids = [event["id"] for event in events]
    assert result["category"] == {"id": category["id"], "title": category["title"], "totalCount": len(ids)}
    assert result["firstPage"] == ids[:2]
    assert result["afterLoadNext"] == ids[:4]  # the connection handler appended the next page
    assert result["hasNextPage"] == (len(ids) > 4)
    assert result["refetched"] == {
        "id": ids[0],
        "title": events[0]["title"],
        "category": {"id": category["id"], "title": category["title"]},
    }
    assert result["requests"] == 3  # the query, the pagination query, the refetch query
