"""Failures become one typed exception each, with our own message: from the emulator where it can
produce the case, from a small server of our own where it cannot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import orjson
import pytest
from aiohttp import web

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.upstream import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    UpstreamCall,
    UpstreamClient,
    UpstreamSession,
    UpstreamSettings,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from events_gateway.upstream._exceptions import (
    MSG_BAD_REQUEST,
    MSG_FORBIDDEN,
    MSG_MALFORMED_KEY,
    MSG_NO_KEY,
    MSG_NOT_FOUND,
    MSG_RATE_LIMITED,
    MSG_SERVER_ERROR,
    MSG_TIMEOUT,
    MSG_UNAUTHENTICATED,
    MSG_UNEXPECTED_STATUS,
    MSG_UNREACHABLE,
    MSG_UNREADABLE,
)

from .conftest import Handler, OddUpstream, free_port, raw_server

EmulatorFactory = Callable[..., Awaitable[RunningEmulator]]

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def open_client() -> AsyncIterator[Callable[..., UpstreamClient]]:
    """Make clients on any base URL; all closed after the test."""
    clients: list[UpstreamClient] = []

    def make(base_url: str, **settings: float) -> UpstreamClient:
        client = UpstreamClient(UpstreamSettings(base_url, **settings))  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


# --- the emulator -------------------------------------------------------------------------------------


async def test_a_bad_key_is_unauthenticated(client: UpstreamClient) -> None:
    with pytest.raises(Unauthenticated) as caught:
        await client.session("not-a-real-key").list_event_categories()
    assert caught.value.message == MSG_UNAUTHENTICATED
    assert caught.value.status == 401
    assert caught.value.route == "GET /event/category"


@pytest.mark.parametrize(
    ("key", "message"), [("", MSG_NO_KEY), ("two words", MSG_MALFORMED_KEY), ("a\nb", MSG_MALFORMED_KEY)]
)
async def test_a_missing_or_malformed_key_is_refused_without_a_call(
    client: UpstreamClient, recorded: list[httpx.Request], key: str, message: str
) -> None:
    calls: list[UpstreamCall] = []
    with pytest.raises(Unauthenticated) as caught:
        await client.session(key, observer=calls.append).get_event(UNKNOWN_ID)
    assert str(caught.value) == message
    assert recorded == []
    assert calls == []


async def test_a_missing_object_is_not_found(session: UpstreamSession) -> None:
    with pytest.raises(NotFound) as caught:
        await session.get_event_category(UNKNOWN_ID)
    assert (caught.value.status, caught.value.message) == (404, MSG_NOT_FOUND)


async def test_a_missing_first_page_is_not_found(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]
) -> None:
    async def gone(request: web.Request) -> web.Response:
        return web.json_response({"detail": "Not found."}, status=404)

    session = open_client(await odd_upstream(gone)).session("key")
    with pytest.raises(NotFound):
        await session.list_events()
    empty = await session.list_events(page=2)
    assert (empty.results, empty.next_url) == ([], None)


async def test_validation_errors_carry_field_messages(session: UpstreamSession) -> None:
    with pytest.raises(BadRequest) as caught:
        await session.create_event({"description": "no title, no parent"})
    assert caught.value.message == MSG_BAD_REQUEST
    assert caught.value.status == 400
    assert "title" in caught.value.field_errors
    assert all(isinstance(m, str) for ms in caught.value.field_errors.values() for m in ms)


async def test_a_bad_filter_is_a_bad_request(session: UpstreamSession) -> None:
    with pytest.raises(BadRequest) as caught:
        await session.list_resources(filter={"operator": "no-such-operator", "field": "title", "value": 1})
    assert caught.value.field_errors


async def test_rate_limit_gives_retry_after(
    emulator_factory: EmulatorFactory, open_client: Callable[..., UpstreamClient]
) -> None:
    running = await emulator_factory(write_limit=1, write_window=60.0)
    session = open_client(running.api_url).session(DEMO_API_KEY)
    category = (await session.list_event_categories()).results[0]
    body = {"title": "one", "integration": category["integration"]}
    await session.create_event_category(body)

    with pytest.raises(RateLimited) as caught:
        await session.create_event_category({**body, "title": "two"})
    assert caught.value.message == MSG_RATE_LIMITED
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= 60


@pytest.mark.parametrize("status", ["500", "503"])
async def test_server_errors_are_unavailable(
    emulator_factory: EmulatorFactory, open_client: Callable[..., UpstreamClient], status: str
) -> None:
    running = await emulator_factory(fault_rate=1.0, faults=(status,))
    with pytest.raises(UpstreamUnavailable) as caught:
        await open_client(running.api_url).session(DEMO_API_KEY).list_event_categories()
    assert (caught.value.status, caught.value.message) == (int(status), MSG_SERVER_ERROR)


async def test_a_cut_body_is_unavailable(
    emulator_factory: EmulatorFactory, open_client: Callable[..., UpstreamClient]
) -> None:
    running = await emulator_factory(fault_rate=1.0, faults=("malformed",))
    with pytest.raises(UpstreamUnavailable) as caught:
        await open_client(running.api_url).session(DEMO_API_KEY).list_event_categories()
    assert caught.value.message == MSG_UNREADABLE


async def test_a_stalled_upstream_times_out(
    emulator_factory: EmulatorFactory, open_client: Callable[..., UpstreamClient]
) -> None:
    running = await emulator_factory(fault_rate=1.0, faults=("stall",), stall_seconds=5.0)
    client = open_client(running.api_url, timeout=0.2)
    with pytest.raises(UpstreamTimeout) as caught:
        await client.session(DEMO_API_KEY).list_event_categories()
    assert caught.value.message == MSG_TIMEOUT
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


async def test_a_refused_connection_is_unavailable_not_a_timeout(
    open_client: Callable[..., UpstreamClient],
) -> None:
    client = open_client(f"http://127.0.0.1:{free_port()}/api/v1")
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.session("key").list_event_categories()
    assert caught.value.message == MSG_UNREACHABLE
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert await client.healthcheck() is False


# --- servers of our own -------------------------------------------------------------------------------


def _answer(
    status: int, body: object = None, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        payload = raw if raw is not None else orjson.dumps(body)
        return web.Response(status=status, body=payload, headers=headers, content_type="application/json")

    return handler


async def _fail(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient], handler: Handler
) -> BaseException:
    session = open_client(await odd_upstream(handler)).session("key")
    with pytest.raises(Exception) as caught:  # noqa: PT011 - each test asserts the exact class
        await session.get_event(UNKNOWN_ID)
    return caught.value


async def test_forbidden(odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]) -> None:
    error = await _fail(odd_upstream, open_client, _answer(403, {"detail": "You do not have permission."}))
    assert isinstance(error, Forbidden)
    assert error.message == MSG_FORBIDDEN


async def test_ninja_422_field_errors(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]
) -> None:
    body = {"detail": [{"loc": ["body", "payload", "title"], "msg": "Field required", "type": "missing"}]}
    error = await _fail(odd_upstream, open_client, _answer(422, body))
    assert isinstance(error, BadRequest)
    assert error.field_errors == {"payload.title": ["Field required"]}


@pytest.mark.parametrize("raw", [b'["just", "a", "list"]', b"<html>Bad Request</html>", b""])
async def test_a_400_without_a_json_object_has_no_field_errors(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient], raw: bytes
) -> None:
    error = await _fail(odd_upstream, open_client, _answer(400, raw=raw))
    assert isinstance(error, BadRequest)
    assert error.field_errors == {}


async def test_retry_after_as_an_http_date(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    error = await _fail(
        odd_upstream, open_client, _answer(429, {"detail": "slow down"}, {"Retry-After": when})
    )
    assert isinstance(error, RateLimited)
    assert error.retry_after is not None
    assert 100 < error.retry_after <= 120


async def test_retry_after_absent(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]
) -> None:
    error = await _fail(odd_upstream, open_client, _answer(429, {"detail": "slow down"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after is None


@pytest.mark.parametrize(
    ("raw", "object_ok", "list_ok"),
    [
        (b"not json", False, False),
        (b'"a string"', False, False),
        (b'["an", "array"]', False, False),  # a list, but of things that are not objects
        (b'{"results": "not a list"}', True, False),  # an object, but not a page
        (b'[{"id": "x"}]', False, True),  # a bare list: read as an unpaginated, single page
    ],
)
async def test_a_2xx_that_is_not_the_expected_json_is_unavailable(
    odd_upstream: OddUpstream,
    open_client: Callable[..., UpstreamClient],
    raw: bytes,
    object_ok: bool,
    list_ok: bool,
) -> None:
    session = open_client(await odd_upstream(_answer(200, raw=raw))).session("key")
    calls: list[tuple[Callable[[], Awaitable[object]], bool]] = [
        (lambda: session.get_event(UNKNOWN_ID), object_ok),
        (session.list_events, list_ok),
    ]
    for call, ok in calls:
        if ok:
            await call()
            continue
        with pytest.raises(UpstreamUnavailable) as got:
            await call()
        assert got.value.message == MSG_UNREADABLE


async def test_the_upstream_body_never_becomes_the_message(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]
) -> None:
    leaky = {"detail": "Traceback: psycopg2 at db-internal-7:5432", "title": ["internal secret"]}
    for status in (401, 403, 404, 429, 500, 502):
        error = await _fail(odd_upstream, open_client, _answer(status, leaky))
        assert "psycopg2" not in str(error)
        assert "internal secret" not in str(error)


async def test_redirects_are_not_followed(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]
) -> None:
    elsewhere: list[web.Request] = []

    async def record(request: web.Request) -> web.Response:
        elsewhere.append(request)
        return web.json_response({})

    target = await odd_upstream(record)
    error = await _fail(odd_upstream, open_client, _answer(301, {}, {"Location": f"{target}/event/events/"}))
    assert isinstance(error, UpstreamUnavailable)
    assert error.message == MSG_UNEXPECTED_STATUS
    assert elsewhere == []


async def test_a_server_that_hangs_up_is_unavailable(open_client: Callable[..., UpstreamClient]) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async with raw_server(hang_up) as url:
        with pytest.raises(UpstreamUnavailable) as caught:
            await open_client(f"{url}/api/v1").session("key").list_events()
        assert not isinstance(caught.value.__cause__, httpx.TimeoutException)


async def test_cookies_never_pass_from_one_caller_to_another(
    odd_upstream: OddUpstream, open_client: Callable[..., UpstreamClient]
) -> None:
    cookies: list[str | None] = []

    async def sets_cookie(request: web.Request) -> web.Response:
        cookies.append(request.headers.get("Cookie"))
        response = web.json_response({"results": []})
        response.set_cookie("sessionid", "caller-one", path="/")
        return response

    client = open_client(await odd_upstream(sets_cookie))
    await client.session("caller-one").list_events()
    await client.session("caller-two").list_events()
    assert cookies == [None, None]
