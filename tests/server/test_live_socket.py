"""Live queries over WebSocket (``graphql-transport-ws`` on ``/graphql``), with Python's ``gql`` client and a
hand-spoken socket, against a real gateway over a real emulator; the emulator's counters say what the
upstream was asked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestServer
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.server import create_app
from events_gateway.settings import Settings

from ..conftest import retitle_upstream
from .conftest import GatewayFactory
from .live_clients import (
    DEMO_AUTH,
    PATIENCE,
    TREE,
    RawSocket,
    metric,
    wait_for_metric,
    ws_url,
)

EVENTS = "subscription Events { events(first: 3) { totalCount nodes { id title } } }"
CREATE_EVENT = "mutation($c: ID!, $t: String!) { createEvent(input: {categoryId: $c, title: $t}) { id } }"


@contextlib.asynccontextmanager
async def gql_session(gateway: str, **init: Any) -> AsyncIterator[Any]:
    payload = init or {"Authorization": f"Bearer {DEMO_API_KEY}"}
    transport = WebsocketsTransport(url=ws_url(gateway), init_payload=payload, close_timeout=1)
    async with Client(transport=transport) as session:
        yield session


async def next_result(subscription: AsyncIterator[Any]) -> Any:
    async with asyncio.timeout(PATIENCE):
        return await anext(subscription)


async def query(http: httpx.AsyncClient, gateway: str, document: str, **variables: Any) -> Any:
    response = await http.post(
        f"{gateway}/graphql", json={"query": document, "variables": variables}, headers=DEMO_AUTH
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_a_subscription_answers_as_its_query_then_a_mutation_pushes_the_changed_tree(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    # An interval far longer than the test: the second result can only come from the write.
    gateway = await gateway_factory(live_interval=3600)
    async with gql_session(gateway) as session:
        subscription = session.subscribe(gql(TREE))
        first = await next_result(subscription)
        assert first == await query(http, gateway, TREE.replace("subscription ", "query ", 1))

        category = first["eventCategories"]["nodes"][0]
        await query(http, gateway, CREATE_EVENT, c=category["id"], t="Checkout Abandoned")
        second = await next_result(subscription)
        await subscription.aclose()

    events = second["eventCategories"]["nodes"][0]["events"]
    assert events["totalCount"] == category["events"]["totalCount"] + 1
    assert "Checkout Abandoned" in [event["title"] for event in events["nodes"]]
    assert await metric(http, gateway, "events_gateway_live_polls_total", reason="write") == 1
    assert await metric(http, gateway, "events_gateway_live_push_latency_seconds_count") == 1


async def test_a_change_made_on_the_upstream_arrives_at_a_poll_and_nothing_arrives_before_it(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator: RunningEmulator
) -> None:
    gateway = await gateway_factory(live_interval=0.05)
    async with gql_session(gateway) as session:
        subscription = session.subscribe(gql(EVENTS))
        first = await next_result(subscription)
        # Several polls find nothing new, and push nothing: the next message is the change below.
        await wait_for_metric(
            http, gateway, "events_gateway_live_polls_total", lambda n: n >= 5, changed="false"
        )
        event = first["events"]["nodes"][0]
        await retitle_upstream(emulator, event["id"], "Renamed in Secoda")
        second = await next_result(subscription)
        await subscription.aclose()

    assert second["events"]["nodes"][0] == {"id": event["id"], "title": "Renamed in Secoda"}
    assert await metric(http, gateway, "events_gateway_live_pushes_total") == 2
    assert await metric(http, gateway, "events_gateway_live_polls_total", reason="write") == 0


async def test_two_hundred_subscribers_cost_the_upstream_what_one_does(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(live_interval=3600, live_max_per_connection=200)
    await emulator_admin.reset()
    expected = await query(http, gateway, TREE.replace("subscription ", "query ", 1))
    one_query = (await emulator_admin.stats())["total"]

    await emulator_admin.reset()
    async with gql_session(gateway) as session:
        subscriptions = [session.subscribe(gql(TREE)) for _ in range(200)]
        firsts = await asyncio.gather(*(next_result(subscription) for subscription in subscriptions))
        assert all(first == expected for first in firsts)
        assert (await emulator_admin.stats())["total"] == one_query
        assert await metric(http, gateway, "events_gateway_live_subscriptions") == 200
        assert await metric(http, gateway, "events_gateway_live_queries") == 1
        for subscription in subscriptions:
            await subscription.aclose()
        await wait_for_metric(http, gateway, "events_gateway_live_subscriptions", lambda n: n == 0)


async def test_disconnecting_every_subscriber_stops_the_polling(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(live_interval=0.02)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(3):
            socket = await stack.enter_async_context(RawSocket(gateway))
            await socket.init(DEMO_AUTH)
            await socket.subscribe("1", EVENTS)
            assert (await socket.receive())["type"] == "next"
        await wait_for_metric(http, gateway, "events_gateway_live_polls_total", lambda n: n >= 3)
        assert await metric(http, gateway, "events_gateway_live_queries") == 1
    # All three sockets are closed now.
    await wait_for_metric(http, gateway, "events_gateway_live_queries", lambda n: n == 0)
    polls = await metric(http, gateway, "events_gateway_live_polls_total")
    calls = (await emulator_admin.stats())["total"]
    await asyncio.sleep(0.3)  # fifteen intervals: a poll left running would show
    assert await metric(http, gateway, "events_gateway_live_polls_total") == polls
    assert (await emulator_admin.stats())["total"] == calls
    assert await metric(http, gateway, "events_gateway_live_subscriptions") == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": f"Bearer {DEMO_API_KEY}"},
        {"authorization": f"Bearer {DEMO_API_KEY}"},
        {"headers": {"Authorization": f"Bearer {DEMO_API_KEY}"}},
    ],
    ids=["Authorization", "authorization", "headers"],
)
async def test_the_key_comes_from_the_connection_init_payload(
    gateway_factory: GatewayFactory, payload: dict[str, Any]
) -> None:
    gateway = await gateway_factory()
    async with gql_session(gateway, **payload) as session:
        result = await session.execute(gql("{ eventCategories { totalCount } }"))
    assert result["eventCategories"]["totalCount"] > 0


async def test_the_key_comes_from_the_handshake_headers_when_the_payload_has_none(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory()
    async with RawSocket(gateway, headers=DEMO_AUTH) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        await socket.subscribe("1", "subscription { eventCategories { totalCount } }")
        message = await socket.receive()
    assert message["payload"]["data"]["eventCategories"]["totalCount"] > 0


async def test_without_any_key_a_subscription_answers_unauthenticated_and_completes(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory()
    async with RawSocket(gateway) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        await socket.subscribe("1", "subscription { eventCategories { totalCount } }")
        message = await socket.receive()
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await socket.receive() == {"id": "1", "type": "complete"}
    await wait_for_metric(http, gateway, "events_gateway_live_queries", lambda n: n == 0)


async def test_the_fallback_key_serves_a_socket_from_no_origin_and_from_the_gateways_own(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    for headers in ({}, {"Origin": gateway}):
        async with RawSocket(gateway, headers=headers) as socket:
            assert (await socket.init())["type"] == "connection_ack"
            await socket.subscribe("1", "subscription { eventCategories { totalCount } }")
            message = await socket.receive()
        assert message["payload"]["data"]["eventCategories"]["totalCount"] > 0


async def test_a_keyless_socket_from_an_allowed_origin_never_gets_the_fallback_key(
    gateway_factory: GatewayFactory, emulator_admin: EmulatorAdmin
) -> None:
    origin = "http://localhost:5173"
    gateway = await gateway_factory(api_key=DEMO_API_KEY, cors_origins=(origin,))
    await emulator_admin.reset()
    async with RawSocket(gateway, headers={"Origin": origin}) as socket:
        await socket.send({"type": "connection_init", "payload": {}})
        assert (await socket.closed())[0] == 4403
    # With its own key, the same page is served.
    async with RawSocket(gateway, headers={"Origin": origin}) as socket:
        assert (await socket.init(DEMO_AUTH))["type"] == "connection_ack"
    assert (await emulator_admin.stats())["total"] == 0


async def test_a_socket_from_an_origin_not_allowed_is_refused_at_the_handshake(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)
    with pytest.raises(WSServerHandshakeError) as refused:
        async with RawSocket(gateway, headers={"Origin": "https://evil.example"}):
            pass
    assert refused.value.status == 403


async def test_queries_and_mutations_run_over_the_socket_and_a_mutation_there_pushes_too(
    gateway_factory: GatewayFactory, http: httpx.AsyncClient
) -> None:
    gateway = await gateway_factory(live_interval=3600)
    async with gql_session(gateway) as watcher, gql_session(gateway) as writer:
        subscription = watcher.subscribe(gql(TREE))
        first = await next_result(subscription)
        as_query = await writer.execute(gql(TREE.replace("subscription ", "query ", 1)))
        assert as_query == first
        category = first["eventCategories"]["nodes"][1]["id"]
        await writer.execute(
            GraphQLRequest(CREATE_EVENT, variable_values={"c": category, "t": "Over the socket"})
        )
        second = await next_result(subscription)
        await subscription.aclose()
    titles = [event["title"] for event in second["eventCategories"]["nodes"][1]["events"]["nodes"]]
    assert "Over the socket" in titles


async def test_a_connection_carries_at_most_the_configured_operations(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory(live_max_per_connection=2, live_interval=3600)
    async with RawSocket(gateway) as socket:
        await socket.init(DEMO_AUTH)
        for operation in ("1", "2"):
            await socket.subscribe(operation, EVENTS)
            assert (await socket.receive())["type"] == "next"
        await socket.subscribe("3", EVENTS)
        refused = await socket.receive()
    assert refused["id"] == "3"
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"


async def test_a_key_holds_at_most_the_configured_subscriptions_across_connections(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory(live_max_per_key=2, live_interval=3600)
    async with RawSocket(gateway) as first, RawSocket(gateway) as second:
        for socket in (first, second):
            await socket.init(DEMO_AUTH)
            await socket.subscribe("1", EVENTS)
            assert (await socket.receive())["type"] == "next"
        await second.subscribe("2", "subscription { eventCategories { totalCount } }")
        refused = await second.receive()
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        # Completing one makes room again.
        await first.send({"id": "1", "type": "complete"})
        await second.subscribe("3", "subscription { eventCategories { totalCount } }")
        while (message := await second.receive())["id"] != "3":
            pass
        assert message["type"] == "next"


async def test_a_live_query_must_pass_the_query_limits(
    gateway_factory: GatewayFactory, emulator_admin: EmulatorAdmin
) -> None:
    gateway = await gateway_factory(max_cost=10)
    await emulator_admin.reset()
    async with gql_session(gateway) as session:
        with pytest.raises(TransportQueryError) as refused:
            await anext(session.subscribe(gql(TREE)))
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert (await emulator_admin.stats())["total"] == 0


async def test_the_server_pings_and_closes_a_peer_that_stops_answering(
    gateway_factory: GatewayFactory,
) -> None:
    gateway = await gateway_factory(live_keepalive=0.05)
    async with RawSocket(gateway) as socket:
        await socket.init(DEMO_AUTH)
        assert await socket.receive() == {"type": "ping"}
        await socket.send({"type": "pong"})
        assert await socket.receive() == {"type": "ping"}
        # No answer to this one: the connection is closed.
        assert await socket.closed() == (4408, "Keep-alive timeout")


async def test_a_socket_that_never_initialises_is_closed(gateway_factory: GatewayFactory) -> None:
    gateway = await gateway_factory(live_init_timeout=0.05)
    async with RawSocket(gateway) as socket:
        assert (await socket.closed())[0] == 4408


async def test_at_shutdown_every_subscription_completes_then_its_socket_closes(
    emulator: RunningEmulator,
) -> None:
    server = TestServer(create_app(Settings(upstream_url=emulator.api_url, live_interval=3600)), port=0)
    await server.start_server()
    gateway = str(server.make_url("")).rstrip("/")
    try:
        async with RawSocket(gateway) as socket:
            await socket.init(DEMO_AUTH)
            await socket.subscribe("1", EVENTS)
            assert (await socket.receive())["type"] == "next"
            closing = asyncio.ensure_future(server.close())
            assert await socket.receive() == {"id": "1", "type": "complete"}
            assert (await socket.closed())[0] == 1001
            await closing
    finally:
        await server.close()
