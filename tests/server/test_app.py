"""The app factory: its wiring, who owns the upstream client, and what an unexpected failure looks like."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
import pytest
from aiohttp import web

import events_gateway.server as server
from events_gateway.server import CLIENT_KEY, SETTINGS_KEY, create_app, upstream_settings
from events_gateway.settings import Settings, SettingsError
from events_gateway.upstream import UpstreamClient, UpstreamSettings


def test_exported_members() -> None:
    assert set(server.__all__) == {
        "ASSETS",
        "CLIENT_KEY",
        "DEMO_QUERY",
        "METRICS_KEY",
        "PLAN_HEADER",
        "REDIS_KEY",
        "REQUEST_ID_KEY",
        "SETTINGS_KEY",
        "GatewayView",
        "MemoryQueryStore",
        "PersistedQueries",
        "PersistedQueryStore",
        "RedisQueryStore",
        "bearer_key",
        "create_app",
        "upstream_settings",
    }
    for name in server.__all__:
        assert getattr(server, name) is not None


def test_without_an_upstream_url_the_factory_says_what_to_set() -> None:
    with pytest.raises(SettingsError, match="EVENTS_API_URL"):
        create_app(Settings())


def test_upstream_settings_follow_the_gateway_settings() -> None:
    settings = Settings(
        upstream_url="http://u/api/v1", upstream_timeout=4, connect_timeout=1, max_connections=7
    )
    assert upstream_settings(settings) == UpstreamSettings(
        base_url="http://u/api/v1", timeout=4, connect_timeout=1, max_connections=7
    )


async def test_a_given_client_is_used_and_left_open(
    emulator: object, start_app: Callable[[web.Application], Awaitable[str]]
) -> None:
    client = UpstreamClient(UpstreamSettings(base_url=emulator.api_url))  # type: ignore[attr-defined]
    app = create_app(Settings(), client=client)
    assert app[CLIENT_KEY] is client
    assert app[SETTINGS_KEY] == Settings()
    base = await start_app(app)
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{base}/readyz")).status_code == 200
    await app.shutdown()
    await app.cleanup()
    assert await client.healthcheck()
    await client.aclose()


async def test_an_unexpected_error_becomes_a_masked_500_with_the_request_id(
    emulator: object,
    start_app: Callable[[web.Application], Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(Settings(upstream_url=emulator.api_url))  # type: ignore[attr-defined]

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app.router.add_get("/boom", boom)
    base = await start_app(app)
    with caplog.at_level(logging.ERROR, logger="events_gateway.server"):
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{base}/boom", headers={"X-Request-Id": "req-1"})
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-1",
    }
    assert response.headers["x-request-id"] == "req-1"
    assert any("req-1" in record.getMessage() and record.exc_info for record in caplog.records)
