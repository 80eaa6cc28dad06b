"""The default transport over real sockets: failures keep their true kind, bodies arrive decoded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from aiohttp import web

from events_gateway.upstream import default_transport
from events_gateway.upstream._transport import _translate, _translated

from .conftest import OddUpstream, free_port, raw_server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=default_transport(max_connections=4), timeout=2.0) as client:
        yield client


async def test_a_refused_connection_is_a_connect_error(http: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ConnectError):
        await http.get(f"http://127.0.0.1:{free_port()}/")


async def test_a_server_hanging_up_is_a_protocol_error(http: httpx.AsyncClient) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async with raw_server(hang_up) as url:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{url}/")


async def test_a_garbled_status_line_is_a_protocol_error(http: httpx.AsyncClient) -> None:
    async def garble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(garble) as url:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{url}/")


async def test_a_slow_answer_is_a_read_timeout(odd_upstream: OddUpstream, http: httpx.AsyncClient) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)
        return web.json_response({})

    base = await odd_upstream(slow)
    with pytest.raises(httpx.ReadTimeout):
        await http.get(f"{base}/", timeout=0.1)


async def test_compressed_bodies_are_decoded(odd_upstream: OddUpstream, http: httpx.AsyncClient) -> None:
    async def gzipped(request: web.Request) -> web.Response:
        response = web.json_response({"results": ["x" * 2000]})
        response.enable_compression(web.ContentCoding.gzip)
        return response

    response = await http.get(f"{await odd_upstream(gzipped)}/")
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json() == {"results": ["x" * 2000]}


async def test_a_streamed_upload_arrives_whole(odd_upstream: OddUpstream, http: httpx.AsyncClient) -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"one,", b"two,", b"three"):
            yield part

    response = await http.post(f"{await odd_upstream(echo)}/", content=chunks())
    assert response.content == b"one,two,three"


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (aiohttp.ConnectionTimeoutError(), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError(), httpx.ReadTimeout),
        (TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ClientConnectorError(None, OSError(111, "refused")), httpx.ConnectError),  # type: ignore[arg-type]
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.InvalidURL("ftp://x"), httpx.UnsupportedProtocol),
        (aiohttp.ClientConnectionError(), httpx.NetworkError),
        (aiohttp.ClientError(), httpx.TransportError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value.__name__,
)
def test_each_aiohttp_failure_has_one_httpx_kind(
    cause: aiohttp.ClientError | TimeoutError, expected: type[Exception]
) -> None:
    error = _translate(cause, httpx.Request("GET", "http://upstream.test/"))
    assert type(error) is expected


def test_foreign_exceptions_are_left_alone() -> None:
    with (
        pytest.raises(ValueError, match="not ours"),
        _translated(httpx.Request("GET", "http://upstream.test/")),
    ):
        raise ValueError("not ours")
