"""List pages decoded with only some keys (``UpstreamSession.project``), against the real emulator, and
the decoder's fallbacks for bodies that are not pages of objects."""

from __future__ import annotations

import orjson
import pytest

from events_gateway.upstream import UpstreamSession
from events_gateway.upstream.projection import page_decoder


async def test_a_projected_session_keeps_only_the_keys_named(session: UpstreamSession) -> None:
    whole = (await session.list_events()).results
    session.project({"id", "title", "parent"})
    projected = (await session.list_events()).results
    session.project(None)
    again = (await session.list_events()).results

    assert [set(resource) for resource in projected] == [{"id", "title", "parent"}] * len(whole)
    assert projected == [{key: r[key] for key in ("id", "title", "parent")} for r in whole]
    assert again == whole
    assert "description" in whole[0]


async def test_a_single_object_and_the_integrations_stay_whole(session: UpstreamSession) -> None:
    session.project({"id"})
    event = (await session.list_events()).results[0]
    integrations = (await session.list_integrations()).results

    assert "description" in await session.get_event(str(event["id"]))
    assert integrations
    assert all(len(integration) > 2 for integration in integrations)


def test_a_body_that_is_not_a_page_of_objects_is_decoded_whole() -> None:
    """So that the envelope reader judges it as it judges any page (test_client_envelope.py reads such
    bodies both ways)."""
    decode = page_decoder({"id"})
    for body in (b'[{"id": "a", "title": "t"}]', b'{"results": [1, 2], "count": 2}', b'{"results": "x"}'):
        assert decode(body) == orjson.loads(body)


def test_a_body_that_is_not_json_fails_as_it_did_whole() -> None:
    with pytest.raises(orjson.JSONDecodeError):
        page_decoder({"id"})(b'{"results": [{"id": "a"')
