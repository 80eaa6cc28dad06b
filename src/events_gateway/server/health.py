"""Probes for orchestrators: liveness never touches the upstream, readiness asks it.

``/healthz`` answers while the process can serve at all, so a slow upstream never gets the gateway
restarted; ``/readyz`` turns 503 while the upstream's ``/healthcheck`` fails, so a load balancer stops
sending traffic that could only fail.
"""

from __future__ import annotations

from aiohttp import web

from .keys import CLIENT_KEY


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: web.Request) -> web.Response:
    ready = await request.app[CLIENT_KEY].healthcheck()
    body = {"status": "ok" if ready else "unavailable", "upstream": "ok" if ready else "unreachable"}
    return web.json_response(body, status=200 if ready else 503, headers={"Cache-Control": "no-store"})
