"""The resilient transport against real loopback servers that fail on cue.

Two kinds of server: an aiohttp app that plays a script of answers (statuses, ``Retry-After``, a stall),
and a bare TCP server for what HTTP servers will not do on purpose (reset or drop a connection before
answering). Time is injected (a fake clock and sleep) wherever the behaviour under test is a wait, so
the suite never sleeps for real except in the deadline and ``Retry-After`` gap tests, which stay short.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from httpx_aiohttp import AiohttpTransport

from events_gateway.upstream import default_transport
from events_gateway.upstream.resilience import (
    DECODED_BODY,
    BreakerPolicy,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    DeadlineExceeded,
    ResilientTransport,
    RetryPolicy,
    deadline_scope,
    origin_of,
    parse_retry_after,
)

from .conftest import FakeTime, free_port

# ---------------------------------------------------------------------------------------------- servers


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False  # hold the request until the test ends
    body: str = "{}"


@dataclass
class Hit:
    method: str
    at: float  # the server's own monotonic clock


class ScriptedServer:
    """An HTTP server answering each request with the next scripted answer (the last one repeats)."""

    def __init__(self, answers: Iterable[Answer]) -> None:
        self.answers = list(answers)
        self.hits: list[Hit] = []
        self.release = asyncio.Event()
        self.stalled = asyncio.Event()  # set once a request is being held
        self.held = 0  # requests being held now
        self._held = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def url(self) -> str:
        return str(self._server.make_url("/items/"))

    def play(self, *answers: Answer) -> None:
        """Replace what is still to come."""
        self.answers = list(answers)

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits.append(Hit(request.method, time.monotonic()))
        await request.read()
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer.stall:
            self.stalled.set()
            async with self._held:
                self.held += 1
                self._held.notify_all()
            await self.release.wait()
        return web.Response(status=answer.status, headers=answer.headers, text=answer.body)

    async def holding(self, count: int) -> None:
        """Return once ``count`` requests are being held."""
        async with self._held:
            await self._held.wait_for(lambda: self.held >= count)

    async def __aenter__(self) -> ScriptedServer:
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self._server.close()


class RawServer:
    """A bare TCP server: per connection it reads the request head, then resets, hangs up or says 200."""

    def __init__(self, script: Iterable[str]) -> None:
        self.script = list(script)
        self.hits: list[str] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/items/"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        self.hits.append(head.split(b" ", 1)[0].decode())
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if step == "reset":  # RST instead of FIN: "connection reset by peer" on the client
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        if step == "ok":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            await writer.drain()
        writer.close()  # "hangup": close without a word

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


def aiohttp_transport() -> httpx.AsyncBaseTransport:
    """httpx over aiohttp, with aiohttp's own resend of PUT/DELETE on a dropped connection turned off."""
    session = aiohttp.ClientSession()
    session._retry_connection = False  # no public switch; aiohttp's own TestClient sets it the same way
    return AiohttpTransport(client=session)


InnerFactory = Callable[[], httpx.AsyncBaseTransport]
INNERS: dict[str, InnerFactory] = {
    "httpx": httpx.AsyncHTTPTransport,
    "aiohttp": aiohttp_transport,
    "gateway": lambda: default_transport(max_connections=10),
}


@pytest.fixture(params=sorted(INNERS))
def inner(request: pytest.FixtureRequest) -> InnerFactory:
    """httpx's own wire, plain httpx-aiohttp, and the gateway's default (httpx-aiohttp, corrected)."""
    return INNERS[request.param]


ClientFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(clock: FakeTime) -> AsyncIterator[ClientFactory]:
    """``await make_client(policy=..., breaker=..., inner=...)``: an httpx client over the transport."""
    clients: list[httpx.AsyncClient] = []

    async def make(
        *,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        inner: InnerFactory = httpx.AsyncHTTPTransport,
        random: Callable[[], float] = lambda: 0.5,
        call_timeout: float = 5.0,
        **kwargs: Any,
    ) -> httpx.AsyncClient:
        transport = ResilientTransport(
            inner(), policy or RetryPolicy(), breaker, sleep=clock.sleep, random=random, **kwargs
        )
        client = httpx.AsyncClient(transport=transport, timeout=call_timeout)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def answers(*statuses: int) -> list[Answer]:
    return [Answer(status) for status in statuses]


# ---------------------------------------------------------------------------------------------- retries


async def test_get_is_retried_until_it_succeeds(make_client: ClientFactory, inner: InnerFactory) -> None:
    async with ScriptedServer(answers(503, 502, 200)) as server:
        client = await make_client(inner=inner, policy=RetryPolicy(max_attempts=3))
        response = await client.get(server.url)
    assert response.status_code == 200
    assert [hit.method for hit in server.hits] == ["GET", "GET", "GET"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_every_idempotent_method_is_retried(make_client: ClientFactory, method: str) -> None:
    async with ScriptedServer(answers(504, 200)) as server:
        client = await make_client()
        response = await client.request(method, server.url)
    assert response.status_code == 200
    assert len(server.hits) == 2


async def test_attempts_are_bounded_and_the_last_answer_is_returned(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    async with ScriptedServer(answers(503)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=4))
        response = await client.get(server.url)
    assert response.status_code == 503
    assert len(server.hits) == 4
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_get_is_retried_on_every_transient_server_error(
    make_client: ClientFactory, status: int
) -> None:
    async with ScriptedServer(answers(status, 200)) as server:
        client = await make_client()
        response = await client.get(server.url)
    assert response.status_code == 200
    assert len(server.hits) == 2


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422, 501])
async def test_other_statuses_are_not_retried(make_client: ClientFactory, status: int) -> None:
    async with ScriptedServer(answers(status, 200)) as server:
        client = await make_client()
        response = await client.get(server.url)
    assert response.status_code == status
    assert len(server.hits) == 1


@pytest.mark.parametrize("failure", ["reset", "hangup"])
async def test_get_is_retried_after_a_dropped_connection(
    make_client: ClientFactory, inner: InnerFactory, failure: str
) -> None:
    async with RawServer([failure, failure, "ok"]) as server:
        client = await make_client(inner=inner, policy=RetryPolicy(max_attempts=3))
        response = await client.get(server.url)
    assert response.status_code == 200
    assert server.hits == ["GET", "GET", "GET"]


async def test_refused_connections_are_retried_then_raised(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    client = await make_client(policy=RetryPolicy(max_attempts=3))
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{free_port()}/items/")
    assert len(clock.sleeps) == 2  # three attempts


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_writes_are_never_retried_on_a_retryable_status(
    make_client: ClientFactory, clock: FakeTime, method: str, status: int
) -> None:
    async with ScriptedServer(answers(status, 200)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=5))
        response = await client.request(method, server.url, json={"title": "x"})
    assert response.status_code == status
    assert [hit.method for hit in server.hits] == [method]
    assert clock.sleeps == []


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("failure", ["reset", "hangup"])
async def test_writes_are_never_retried_after_a_dropped_connection(
    make_client: ClientFactory, inner: InnerFactory, method: str, failure: str
) -> None:
    async with RawServer([failure, "ok"]) as server:
        client = await make_client(inner=inner, policy=RetryPolicy(max_attempts=5))
        with pytest.raises(httpx.TransportError):
            await client.request(method, server.url, json={"title": "x"})
    assert server.hits == [method]


async def test_aiohttp_alone_would_resend_a_put_after_a_reset() -> None:
    """Why the aiohttp wire needs its session's resend switched off: aiohttp resends PUT and DELETE once."""
    async with (
        RawServer(["reset", "ok"]) as server,
        httpx.AsyncClient(transport=AiohttpTransport()) as client,
    ):
        response = await client.put(server.url, json={"title": "x"})
    assert response.status_code == 200
    assert server.hits == ["PUT", "PUT"]


async def test_writes_are_never_retried_on_429(make_client: ClientFactory) -> None:
    async with ScriptedServer([Answer(429, {"Retry-After": "1"}), Answer(201)]) as server:
        client = await make_client()
        response = await client.post(server.url, json={"title": "x"})
    assert response.status_code == 429
    assert len(server.hits) == 1


# ------------------------------------------------------------------------------------- unreadable bodies

TRUNCATED = '{"links": {"next": null}, "results": [{"id": "a'


async def test_a_get_whose_body_does_not_decode_is_retried(
    make_client: ClientFactory, inner: InnerFactory, clock: FakeTime
) -> None:
    async with ScriptedServer(
        [Answer(body=TRUNCATED), Answer(body="not json"), Answer(body='{"ok": 1}')]
    ) as server:
        client = await make_client(inner=inner, policy=RetryPolicy(max_attempts=3), decode=orjson.loads)
        response = await client.get(server.url)
    assert response.status_code == 200
    assert response.extensions[DECODED_BODY] == {"ok": 1}  # decoded once, handed up
    assert len(server.hits) == 3
    assert len(clock.sleeps) == 2


async def test_the_last_unreadable_body_is_handed_back_as_it_came(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    async with ScriptedServer([Answer(body=TRUNCATED)]) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=2), decode=orjson.loads)
        response = await client.get(server.url)
    assert response.text == TRUNCATED
    assert DECODED_BODY not in response.extensions
    assert len(server.hits) == 2


async def test_unreadable_bodies_count_against_the_circuit(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    transitions = Transitions()
    breaker = breaker_for(clock, transitions, threshold=2)
    async with ScriptedServer([Answer(500), Answer(body=TRUNCATED), Answer(body="{}")]) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=5), breaker=breaker, decode=orjson.loads)
        response = await client.get(server.url)
    assert response.text == TRUNCATED  # the second failure in a row opened the circuit: no third try
    assert len(server.hits) == 2
    assert transitions.states() == ["closed->open"]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_write_whose_body_does_not_decode_is_not_retried(
    make_client: ClientFactory, clock: FakeTime, method: str
) -> None:
    async with ScriptedServer([Answer(201, body=TRUNCATED), Answer(201)]) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=5), decode=orjson.loads)
        response = await client.request(method, server.url, json={"title": "x"})
    assert response.text == TRUNCATED
    assert [hit.method for hit in server.hits] == [method]
    assert clock.sleeps == []


async def test_without_a_decoder_bodies_are_not_judged(make_client: ClientFactory) -> None:
    async with ScriptedServer([Answer(body=TRUNCATED), Answer()]) as server:
        client = await make_client()
        response = await client.get(server.url)
    assert response.text == TRUNCATED
    assert len(server.hits) == 1


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204)])
async def test_answers_without_a_body_are_not_decoded(
    make_client: ClientFactory, method: str, status: int
) -> None:
    async with ScriptedServer([Answer(status, body=""), Answer()]) as server:
        client = await make_client(decode=orjson.loads)
        response = await client.request(method, server.url)
    assert response.status_code == status
    assert len(server.hits) == 1


async def test_error_answers_are_not_decoded(make_client: ClientFactory) -> None:
    async with ScriptedServer([Answer(404, body="<html>gone</html>"), Answer()]) as server:
        client = await make_client(decode=orjson.loads)
        response = await client.get(server.url)
    assert response.status_code == 404
    assert len(server.hits) == 1


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        (None, None, None),
        ("7", None, 7.0),
        (" 0 ", None, 0.0),
        ("1.5", None, 1.5),
        ("-3", None, None),
        ("soon", None, None),
        ("inf", None, None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", "Wed, 21 Oct 2015 07:28:00 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:10 GMT", 0.0),  # already past
        ("Wed, 21 Oct 2015 07:28:10 GMT", "garbage", 10.0),  # falls back to ``now``
        ("Wed, 21 Oct 2015 07:28:10", None, None),  # no zone: not an HTTP date
    ],
)
def test_parse_retry_after(value: str | None, date: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(value, date=date, now=now) == expected


def test_a_policy_that_would_retry_writes_is_refused() -> None:
    with pytest.raises(ValueError, match="write twice"):
        RetryPolicy(retry_methods=frozenset({"GET", "POST"}))


# ------------------------------------------------------------------------------------------ retry-after


async def test_retry_after_seconds_is_the_wait(make_client: ClientFactory, clock: FakeTime) -> None:
    async with ScriptedServer([Answer(429, {"Retry-After": "3"}), Answer(200)]) as server:
        client = await make_client(policy=RetryPolicy(max_retry_after=5))
        response = await client.get(server.url)
    assert response.status_code == 200
    assert len(server.hits) == 2
    assert clock.sleeps == [3.0]


async def test_retry_after_on_503_is_honoured_too(make_client: ClientFactory, clock: FakeTime) -> None:
    async with ScriptedServer([Answer(503, {"Retry-After": "2"}), Answer(200)]) as server:
        client = await make_client()
        response = await client.get(server.url)
    assert response.status_code == 200
    assert clock.sleeps == [2.0]


async def test_retry_after_http_date_counts_from_the_servers_date(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    # The server's clock is a day off ours: the wait is still the 4 s it meant.
    server_now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + timedelta(seconds=4), usegmt=True),
    }
    async with ScriptedServer([Answer(429, headers), Answer(200)]) as server:
        client = await make_client()
        response = await client.get(server.url)
    assert response.status_code == 200
    assert clock.sleeps == [4.0]


async def test_retry_after_beyond_the_cap_hands_the_429_back(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    async with ScriptedServer([Answer(429, {"Retry-After": "60"}), Answer(200)]) as server:
        client = await make_client(policy=RetryPolicy(max_retry_after=5))
        response = await client.get(server.url)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"  # for the client's RateLimited.retry_after
    assert len(server.hits) == 1
    assert clock.sleeps == []


async def test_unreadable_retry_after_falls_back_to_backoff(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    async with ScriptedServer([Answer(429, {"Retry-After": "soon"}), Answer(200)]) as server:
        client = await make_client(policy=RetryPolicy(backoff_base=0.4), random=lambda: 0.5)
        response = await client.get(server.url)
    assert response.status_code == 200
    assert clock.sleeps == [0.2]


async def test_the_server_sees_the_retry_after_gap() -> None:
    """Real time, once: the second attempt reaches the server no sooner than it asked."""
    async with ScriptedServer([Answer(429, {"Retry-After": "0.2"}), Answer(200)]) as server:
        transport = ResilientTransport(httpx.AsyncHTTPTransport(), RetryPolicy())
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(server.url)
    assert response.status_code == 200
    first, second = server.hits
    assert second.at - first.at >= 0.2


# ----------------------------------------------------------------------------------------------- jitter


async def test_backoff_is_full_jitter_within_the_doubling_cap(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    draws = iter([0.999, 0.0, 0.5, 0.999])
    policy = RetryPolicy(max_attempts=5, backoff_base=0.1, backoff_max=0.3)
    async with ScriptedServer(answers(503, 503, 503, 503, 200)) as server:
        client = await make_client(policy=policy, random=lambda: next(draws))
        response = await client.get(server.url)
    assert response.status_code == 200
    # windows: 0.1, 0.2, 0.4 capped to 0.3, 0.8 capped to 0.3
    assert clock.sleeps == pytest.approx([0.0999, 0.0, 0.15, 0.2997])


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999999])
@pytest.mark.parametrize("retry", [1, 2, 3, 8, 30])
def test_backoff_stays_within_bounds(draw: float, retry: int) -> None:
    policy = RetryPolicy(backoff_base=0.1, backoff_max=2.0)
    wait = policy.backoff(retry, draw)
    assert 0.0 <= wait <= min(2.0, 0.1 * 2 ** (retry - 1))
    assert wait == pytest.approx(draw * min(2.0, 0.1 * 2 ** (retry - 1)))


# --------------------------------------------------------------------------------------------- deadline


async def test_deadline_cuts_a_stalled_attempt_and_raises_the_timeout_kind(inner: InnerFactory) -> None:
    async with ScriptedServer([Answer(stall=True)]) as server:
        transport = ResilientTransport(inner(), RetryPolicy(max_attempts=5))
        async with httpx.AsyncClient(transport=transport, timeout=30.0) as client:
            with deadline_scope(0.3), pytest.raises(DeadlineExceeded) as caught:
                await client.get(server.url)
    assert isinstance(caught.value, httpx.TimeoutException)  # → UpstreamTimeout at the client's boundary
    assert len(server.hits) == 1  # the deadline left no room for a retry


async def test_deadline_stops_retries_mid_way(make_client: ClientFactory, clock: FakeTime) -> None:
    policy = RetryPolicy(max_attempts=5, backoff_base=2.0, backoff_max=2.0)  # every wait: 0.5 × 2 s
    async with ScriptedServer(answers(503, 503, 200)) as server:
        client = await make_client(policy=policy, random=lambda: 0.5)
        with deadline_scope(1.5, clock=clock.monotonic):
            response = await client.get(server.url)
    # attempt at t=0, wait until t=1, attempt; the next wait would end at t=2, past the deadline
    assert response.status_code == 503  # the real last answer, not an invented timeout
    assert len(server.hits) == 2
    assert clock.sleeps == [1.0]


async def test_no_retry_starts_when_the_retry_after_outlasts_the_deadline(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    async with ScriptedServer([Answer(429, {"Retry-After": "3"}), Answer(200)]) as server:
        client = await make_client()
        with deadline_scope(2.0, clock=clock.monotonic):
            response = await client.get(server.url)
    assert response.status_code == 429
    assert len(server.hits) == 1
    assert clock.sleeps == []


async def test_an_expired_deadline_makes_no_call(make_client: ClientFactory, clock: FakeTime) -> None:
    async with ScriptedServer(answers(200)) as server:
        client = await make_client()
        with deadline_scope(1.0, clock=clock.monotonic):
            clock.advance(1.0)
            with pytest.raises(DeadlineExceeded):
                await client.get(server.url)
    assert server.hits == []


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes through to a real transport, keeping the timeouts each attempt carried."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.timeouts: list[dict[str, float]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_each_attempt_timeout_is_clipped_to_the_time_left(clock: FakeTime) -> None:
    recorder = RecordingTransport()
    transport = ResilientTransport(recorder, RetryPolicy(), sleep=clock.sleep, random=lambda: 0.5)
    timeout = httpx.Timeout(4.0, connect=1.0)
    async with (
        ScriptedServer(answers(200, 503, 200)) as server,
        httpx.AsyncClient(transport=transport) as client,
    ):
        await client.get(server.url, timeout=timeout)  # no deadline: the per-call timeouts as given
        with deadline_scope(2.0, clock=clock.monotonic):
            await client.get(server.url, timeout=timeout)
    assert recorder.timeouts[0] == {"connect": 1.0, "read": 4.0, "write": 4.0, "pool": 4.0}
    assert recorder.timeouts[1] == {"connect": 1.0, "read": 2.0, "write": 2.0, "pool": 2.0}
    # the second GET slept 0.05 (half of the 0.1 window) before its second attempt
    assert recorder.timeouts[2] == pytest.approx({"connect": 1.0, "read": 1.95, "write": 1.95, "pool": 1.95})


async def test_nested_scopes_only_shorten_the_budget(clock: FakeTime) -> None:
    with deadline_scope(5.0, clock=clock.monotonic) as outer:
        assert outer is not None
        with deadline_scope(60.0, clock=clock.monotonic) as wider:
            assert wider is outer
        with deadline_scope(1.0, clock=clock.monotonic) as narrower:
            assert narrower is not None
            assert narrower.remaining() == 1.0
        with deadline_scope(None) as unchanged:
            assert unchanged is outer


async def test_the_deadline_reaches_tasks_spawned_inside_the_scope() -> None:
    from events_gateway.upstream.resilience import current_deadline

    async def seen() -> float | None:
        deadline = current_deadline()
        return None if deadline is None else deadline.expires_at

    async with deadline_scope(10.0) as deadline:
        assert deadline is not None
        inside = await asyncio.gather(seen(), asyncio.create_task(seen()))
    assert list(inside) == [deadline.expires_at, deadline.expires_at]
    assert await seen() is None


# ---------------------------------------------------------------------------------------------- breaker


@dataclass
class Transitions:
    seen: list[tuple[str, CircuitState, CircuitState]] = field(default_factory=list)

    def __call__(self, origin: str, old: CircuitState, new: CircuitState) -> None:
        self.seen.append((origin, old, new))

    def states(self) -> list[str]:
        return [f"{old}->{new}" for _, old, new in self.seen]


def breaker_for(
    clock: FakeTime, transitions: Transitions, threshold: int = 3, cooldown: float = 10.0
) -> CircuitBreaker:
    return CircuitBreaker(
        BreakerPolicy(failure_threshold=threshold, cooldown=cooldown),
        clock=clock.monotonic,
        on_transition=transitions,
    )


async def test_breaker_opens_then_fails_fast_without_calling(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    transitions = Transitions()
    breaker = breaker_for(clock, transitions, threshold=3)
    async with ScriptedServer(answers(503)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        origin = origin_of(httpx.URL(server.url))
        for _ in range(3):
            assert (await client.get(server.url)).status_code == 503
        assert breaker.state(origin) is CircuitState.OPEN
        with pytest.raises(CircuitOpen) as caught:
            await client.get(server.url)
        with pytest.raises(CircuitOpen):
            await client.post(server.url, json={})
    assert isinstance(caught.value, httpx.TransportError)  # → UpstreamUnavailable at the client's boundary
    assert caught.value.retry_in == 10.0
    assert len(server.hits) == 3  # the refused calls never reached the server
    assert transitions.seen == [(origin, CircuitState.CLOSED, CircuitState.OPEN)]


async def test_half_open_lets_one_probe_through_and_closes_on_success(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    transitions = Transitions()
    breaker = breaker_for(clock, transitions, threshold=2, cooldown=10.0)
    async with ScriptedServer(answers(503)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        origin = origin_of(httpx.URL(server.url))
        await client.get(server.url)
        await client.get(server.url)
        assert breaker.state(origin) is CircuitState.OPEN

        clock.advance(10.0)
        assert breaker.state(origin) is CircuitState.HALF_OPEN
        server.play(Answer(200, stall=True))
        probe = asyncio.create_task(client.get(server.url))
        await server.stalled.wait()  # the probe is at the server, held there
        with pytest.raises(CircuitOpen):  # a second caller during the probe is refused
            await client.get(server.url)
        server.release.set()
        assert (await probe).status_code == 200
        assert breaker.state(origin) is CircuitState.CLOSED
        assert (await client.get(server.url)).status_code == 200
    assert len(server.hits) == 4
    assert transitions.states() == ["closed->open", "open->half_open", "half_open->closed"]


async def test_a_failed_probe_reopens_the_circuit(make_client: ClientFactory, clock: FakeTime) -> None:
    transitions = Transitions()
    breaker = breaker_for(clock, transitions, threshold=1, cooldown=5.0)
    async with ScriptedServer(answers(502)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        await client.get(server.url)
        clock.advance(5.0)
        assert (await client.get(server.url)).status_code == 502  # the probe
        with pytest.raises(CircuitOpen):
            await client.get(server.url)
    assert len(server.hits) == 2
    assert transitions.states() == ["closed->open", "open->half_open", "half_open->open"]


async def test_client_errors_do_not_open_the_circuit(make_client: ClientFactory, clock: FakeTime) -> None:
    breaker = breaker_for(clock, Transitions(), threshold=2)
    async with ScriptedServer(answers(404, 429, 400, 404, 401)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        for _ in range(5):
            await client.get(server.url)
        assert breaker.state(origin_of(httpx.URL(server.url))) is CircuitState.CLOSED
    assert len(server.hits) == 5


async def test_a_success_resets_the_failure_count(make_client: ClientFactory, clock: FakeTime) -> None:
    breaker = breaker_for(clock, Transitions(), threshold=2)
    async with ScriptedServer(answers(500, 200, 500, 200)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        for _ in range(4):
            await client.get(server.url)
        assert breaker.state(origin_of(httpx.URL(server.url))) is CircuitState.CLOSED


async def test_retries_stop_once_their_failures_open_the_circuit(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    breaker = breaker_for(clock, Transitions(), threshold=2)
    async with ScriptedServer(answers(503)) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=5), breaker=breaker)
        response = await client.get(server.url)
    assert response.status_code == 503  # the real answer, rather than a refusal of our own
    assert len(server.hits) == 2
    assert clock.sleeps == [pytest.approx(0.05)]


async def test_dropped_connections_open_the_circuit(make_client: ClientFactory, clock: FakeTime) -> None:
    breaker = breaker_for(clock, Transitions(), threshold=2)
    async with RawServer(["reset"]) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        for _ in range(2):
            with pytest.raises(httpx.TransportError):
                await client.get(server.url)
        with pytest.raises(CircuitOpen):
            await client.get(server.url)
    assert server.hits == ["GET", "GET"]


async def test_circuits_are_kept_per_origin(make_client: ClientFactory, clock: FakeTime) -> None:
    breaker = breaker_for(clock, Transitions(), threshold=1)
    async with ScriptedServer(answers(503)) as failing, ScriptedServer(answers(200)) as healthy:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        await client.get(failing.url)
        with pytest.raises(CircuitOpen):
            await client.get(failing.url)
        assert (await client.get(healthy.url)).status_code == 200
        assert breaker.states() == {
            origin_of(httpx.URL(failing.url)): CircuitState.OPEN,
            origin_of(httpx.URL(healthy.url)): CircuitState.CLOSED,
        }


async def test_a_deadline_cut_is_not_held_against_the_upstream() -> None:
    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=1))
    async with ScriptedServer([Answer(stall=True)]) as server:
        transport = ResilientTransport(httpx.AsyncHTTPTransport(), RetryPolicy(), breaker)
        async with httpx.AsyncClient(transport=transport) as client:
            with deadline_scope(0.1), pytest.raises(DeadlineExceeded):
                await client.get(server.url)
        assert breaker.state(origin_of(httpx.URL(server.url))) is CircuitState.CLOSED


def test_a_cancelled_probe_frees_the_probe_slot(clock: FakeTime) -> None:
    breaker = breaker_for(clock, Transitions(), threshold=1, cooldown=1.0)
    origin = "http://upstream.test:80"
    assert breaker.admit(origin)
    breaker.record_failure(origin)
    clock.advance(1.0)
    assert breaker.admit(origin)  # the probe
    assert not breaker.admit(origin)
    breaker.record_neutral(origin)  # the probe was cancelled: no verdict
    assert breaker.admit(origin)


async def test_failures_that_began_before_a_success_do_not_open_the_circuit(
    make_client: ClientFactory, clock: FakeTime
) -> None:
    """Calls held by a slow upstream end together, after the successes that followed them: not a run."""
    transitions = Transitions()
    breaker = breaker_for(clock, transitions, threshold=2)
    async with ScriptedServer([Answer(503, stall=True), Answer(503, stall=True), Answer(200)]) as server:
        client = await make_client(policy=RetryPolicy(max_attempts=1), breaker=breaker)
        held = [asyncio.create_task(client.get(server.url)) for _ in range(2)]
        async with asyncio.timeout(5):
            await server.holding(2)
        clock.advance(1.0)
        assert (await client.get(server.url)).status_code == 200
        server.release.set()
        assert [(await call).status_code for call in held] == [503, 503]
        assert transitions.states() == []

        server.play(Answer(503))  # failures that began after the last success do count
        for _ in range(2):
            await client.get(server.url)
    assert transitions.states() == ["closed->open"]


def test_a_straggler_from_before_the_circuit_opened_does_not_reopen_it(clock: FakeTime) -> None:
    breaker = breaker_for(clock, Transitions(), threshold=1, cooldown=10.0)
    origin = "http://upstream.test:80"
    straggler = breaker.now()
    clock.advance(1.0)
    breaker.record_failure(origin, started=breaker.now())
    assert breaker.state(origin) is CircuitState.OPEN
    clock.advance(10.0)
    assert breaker.admit(origin)  # the probe
    breaker.record_failure(origin, started=straggler)  # began while the circuit was still closed
    assert breaker.state(origin) is CircuitState.HALF_OPEN
    breaker.record_success(origin)
    assert breaker.state(origin) is CircuitState.CLOSED


def test_a_failing_listener_does_not_break_the_breaker(clock: FakeTime) -> None:
    def broken(origin: str, old: CircuitState, new: CircuitState) -> None:
        raise RuntimeError("metrics are down")

    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=1), clock=clock.monotonic, on_transition=broken)
    breaker.record_failure("http://upstream.test:80")
    assert breaker.state("http://upstream.test:80") is CircuitState.OPEN


def test_origin_spells_out_the_default_port() -> None:
    assert origin_of(httpx.URL("https://api.secoda.co/api/v1/event/events/")) == "https://api.secoda.co:443"
    assert origin_of(httpx.URL("http://127.0.0.1:8080/x")) == "http://127.0.0.1:8080"


def test_the_public_surface_is_what_the_docs_list() -> None:
    from events_gateway.upstream import resilience

    assert len(resilience.__all__) == len(set(resilience.__all__))
    for name in resilience.__all__:
        assert hasattr(resilience, name), name
    documented = (Path(__file__).parents[2] / "docs" / "resilience.md").read_text(encoding="utf-8")
    for name in resilience.__all__:
        if not name.startswith(("DEFAULT_", "RETRY")):
            assert f"`{name}" in documented, name
