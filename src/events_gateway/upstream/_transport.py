"""The default wire: httpx over aiohttp's connection pool, with two corrections for a shared gateway.

``httpx_aiohttp.AiohttpTransport`` is several times faster than httpx's own transport under concurrency,
but as shipped it (1) reports a refused connection or a server that hangs up as ``httpx.ConnectTimeout``
and lets some aiohttp errors (a malformed response) escape untranslated, and (2) gives its aiohttp
session a cookie jar, so a cookie set for one caller's key would ride along on every other caller's
requests. This subclass translates every aiohttp failure to the right httpx class and keeps no cookies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport


def _translate(cause: aiohttp.ClientError | TimeoutError, request: httpx.Request) -> httpx.TransportError:
    """The httpx error an aiohttp failure (or a timeout) stands for, most specific class first."""
    message = type(cause).__name__  # aiohttp's text names the host and port, not the headers
    error: httpx.TransportError
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        error = httpx.ConnectTimeout(message, request=request)
    elif isinstance(cause, TimeoutError):  # socket read timeouts and the plain asyncio kind
        error = httpx.ReadTimeout(message, request=request)
    elif isinstance(cause, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake
        error = httpx.ConnectError(message, request=request)
    elif isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        error = httpx.RemoteProtocolError(message, request=request)
    elif isinstance(cause, aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        error = httpx.ReadError(message, request=request)
    elif isinstance(cause, aiohttp.InvalidURL):
        error = httpx.UnsupportedProtocol(message, request=request)
    elif isinstance(cause, aiohttp.ClientConnectionError):
        error = httpx.NetworkError(message, request=request)
    else:
        error = httpx.TransportError(message, request=request)
    return error


@contextlib.contextmanager
def _translated(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _translate(exc, request) from exc


class GatewayAiohttpTransport(AiohttpTransport):
    """``AiohttpTransport`` with exact error classes and no cookie jar; one pool for the process."""

    def get_client(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
        )
        # aiohttp silently resends PUT and DELETE once when a connection drops, so a DELETE applied
        # before the drop would come back 404. Whether to resend is the resilience layer's call (never
        # for writes); aiohttp has no public switch, and its own TestClient flips this one.
        session._retry_connection = False
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """One exchange, with the body read whole inside aiohttp (the client reads every body whole).

        Reading eagerly skips three layers of chunked async streaming per call, and handing aiohttp a
        pre-encoded ``yarl.URL`` skips a second parse of a URL that httpx has already normalised.
        """
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        try:
            data: bytes | httpx.AsyncByteStream | None = request.content or None
        except httpx.RequestNotRead:  # a streamed upload; aiohttp does the chunking itself
            data = request.stream  # type: ignore[assignment]  # aiohttp accepts any async iterable
            request.headers.pop("transfer-encoding", None)
        with _translated(request):
            async with self.client.request(
                request.method,
                yarl.URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=data,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            ) as response:
                content = await response.read()
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            content=content,  # decoded by httpx per Content-Encoding, as the default transport would be
            request=request,
            extensions=extensions,
        )


def default_transport(*, max_connections: int, keepalive_expiry: float = 30.0) -> httpx.AsyncBaseTransport:
    """The aiohttp-backed transport an ``UpstreamClient`` uses when given none; wrap it to add retries.

    Every connection may stay alive: the gateway's fan-out reuses them level after level.
    """
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=keepalive_expiry,
    )
    transport: httpx.AsyncBaseTransport = GatewayAiohttpTransport(limits=limits)
    return transport
