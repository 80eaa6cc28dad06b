"""The caller's API key never reaches a log line, an exception's text, a traceback or a repr."""

from __future__ import annotations

import logging
import traceback

import pytest
from aiohttp import web

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.upstream import UpstreamClient, UpstreamError, UpstreamSettings

from .conftest import OddUpstream

WRONG_KEY = "e3b0c442-98fc-1c14-9afb-f4c8996fb924"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


async def test_keys_stay_out_of_logs_errors_and_reprs(
    emulator: RunningEmulator, odd_upstream: OddUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    async def echo_auth_in_error(request: web.Request) -> web.Response:
        # an upstream careless enough to echo the header back in its error body and a next link
        auth = request.headers.get("Authorization", "")
        if request.path.endswith("/event/events/"):
            return web.json_response({"results": [], "next": f"http://evil.test/?key={auth}"})
        return web.json_response({"detail": auth, "title": [auth]}, status=400, headers={"X-Echo": auth})

    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    client = UpstreamClient(UpstreamSettings(emulator.api_url))
    echo = UpstreamClient(UpstreamSettings(await odd_upstream(echo_auth_in_error)))
    try:
        good = client.session(DEMO_API_KEY)
        bad = client.session(WRONG_KEY)
        echoed = echo.session(DEMO_API_KEY)
        await good.list_event_categories()
        attempts = [
            bad.list_event_categories(),
            good.get_event(UNKNOWN_ID),
            good.create_event({"title": DEMO_API_KEY}),
            echoed.get_event(UNKNOWN_ID),
            echoed.follow(f"http://evil.test/?key={DEMO_API_KEY}"),
        ]
        for attempt in attempts:
            try:
                await attempt
            except UpstreamError as exc:
                errors.append(exc)
        page = await echoed.list_events()
        assert page.next_url is not None  # the upstream's own link is data, handed back as given
        reprs = [repr(good), repr(bad), repr(client), str(good), repr(client.settings)]
    finally:
        await client.aclose()
        await echo.aclose()

    assert len(errors) == 5
    texts = [caplog.text, *reprs]
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        texts += [str(arg) for arg in error.args]
    for text in texts:
        assert DEMO_API_KEY not in text
        assert WRONG_KEY not in text
