"""Liveness never touches the upstream; readiness follows the upstream's own health check."""

from __future__ import annotations

import socket

import httpx
import pytest

from .conftest import GatewayFactory


@pytest.fixture
def dead_upstream() -> str:
    """An API root on a loopback port that nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


async def test_healthz_answers_ok(gateway: str, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{gateway}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_ok_when_the_upstream_is_healthy(gateway: str, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{gateway}/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "upstream": "ok"}


async def test_readyz_is_503_when_the_upstream_is_down_while_healthz_stays_ok(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, dead_upstream: str
) -> None:
    gateway = await gateway_factory(upstream_url=dead_upstream, connect_timeout=1.0, upstream_timeout=2.0)
    ready = await http.get(f"{gateway}/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "upstream": "unreachable"}
    alive = await http.get(f"{gateway}/healthz")
    assert alive.status_code == 200
