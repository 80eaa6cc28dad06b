"""``UpstreamClient.instrument`` hands an instrumentation the ``httpx.AsyncClient`` all calls go through."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from events_gateway.upstream import UpstreamClient, UpstreamSession


async def test_an_instrumentation_sees_every_call_until_undone(
    client: UpstreamClient, session: UpstreamSession
) -> None:
    seen: list[str] = []

    async def note(request: httpx.Request) -> None:
        seen.append(request.url.path)

    def instrumentation(http: httpx.AsyncClient) -> Callable[[], None]:
        http.event_hooks["request"].append(note)
        return lambda: http.event_hooks["request"].remove(note)

    undo = client.instrument(instrumentation)
    await session.list_event_categories()
    undo()
    await session.list_integrations()
    assert seen == ["/api/v1/event/category/"]
