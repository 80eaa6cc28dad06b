"""Every error code the graph layer produces, and the masking of everything else."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.upstream import UpstreamClient, UpstreamSettings

from ..conftest import EmulatorFactory
from .conftest import AdminFor, Gateway, GatewayFor, Rest

CATEGORIES = "{ eventCategories { totalCount nodes { id } } }"


def _codes(result: Any) -> list[str]:
    return [error.extensions["code"] for error in result.errors or ()]


async def test_no_key_is_unauthenticated_without_calling_the_upstream(
    emulator: RunningEmulator, gateway: Gateway, admin_for: AdminFor
) -> None:
    admin = admin_for(emulator)
    await admin.reset()
    result = await gateway.run(CATEGORIES, key=None)
    assert result.data is None
    assert _codes(result) == ["UNAUTHENTICATED"]
    mutation = await gateway.run(
        'mutation { deleteEvent(id: "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f") { id } }', key=None
    )
    assert _codes(mutation) == ["UNAUTHENTICATED"]
    assert (await admin.stats())["total"] == 0


async def test_a_bad_key_is_unauthenticated(gateway: Gateway) -> None:
    result = await gateway.run(CATEGORIES, key="0f0f0f0f-not-a-real-key")
    assert _codes(result) == ["UNAUTHENTICATED"]
    assert result.errors is not None
    assert "0f0f0f0f" not in result.errors[0].message


async def test_a_missing_object_is_partial_data_next_to_the_rest(gateway: Gateway) -> None:
    result = await gateway.run(
        '{ eventCategories { totalCount } x: event(id: "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f") { id } }'
    )
    assert result.data == {"eventCategories": {"totalCount": 5}, "x": None}
    assert _codes(result) == ["NOT_FOUND"]
    assert result.errors is not None
    assert result.errors[0].path == ["x"]


async def test_the_write_limit_is_rate_limited_with_retry_after(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, rest: Rest
) -> None:
    emulator = await emulator_factory(write_limit=1)
    gateway = gateway_for(emulator)
    event = (await rest(emulator, "/event/events"))[0]
    mutation = "mutation($id: ID!) { updateEvent(id: $id, input: {pii: true}) { id } }"
    assert (await gateway.run(mutation, {"id": event["id"]})).errors is None
    result = await gateway.run(mutation, {"id": event["id"]})
    assert _codes(result) == ["RATE_LIMITED"]
    assert result.errors is not None
    assert (result.errors[0].extensions or {})["retryAfter"] > 0


@pytest.mark.parametrize("fault", ["500", "503", "malformed"])
async def test_upstream_failures_are_upstream_unavailable(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, fault: str
) -> None:
    emulator = await emulator_factory(fault_rate=1.0, faults=(fault,))
    result = await gateway_for(emulator).run(CATEGORIES)
    assert _codes(result) == ["UPSTREAM_UNAVAILABLE"]
    assert result.errors is not None
    assert "Traceback" not in result.errors[0].message


async def test_a_stalled_upstream_is_upstream_timeout(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor
) -> None:
    emulator = await emulator_factory(fault_rate=1.0, faults=("stall",), stall_seconds=5.0)
    result = await gateway_for(emulator, timeout=0.2).run(CATEGORIES)
    assert _codes(result) == ["UPSTREAM_TIMEOUT"]


async def test_an_unreachable_upstream_is_upstream_unavailable(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor
) -> None:
    emulator = await emulator_factory()
    client = UpstreamClient(UpstreamSettings(base_url="http://127.0.0.1:9/api/v1", timeout=2.0))
    try:
        result = await gateway_for(emulator, client=client).run(CATEGORIES)
    finally:
        await client.aclose()
    assert _codes(result) == ["UPSTREAM_UNAVAILABLE"]


class _FailingRoute(httpx.AsyncBaseTransport):
    """Forwards to the real emulator, except the calls whose URL contains ``marker``: those get ``answer``.

    A real server cannot fail one branch of a tree while answering the others, so this one exchange is
    made up; every other call crosses the loopback wire.
    """

    def __init__(self, marker: str, answer: Exception | int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._marker = marker
        self._answer = answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._marker in str(request.url):
            if isinstance(self._answer, Exception):
                raise self._answer
            return httpx.Response(self._answer, json={"detail": "secret upstream detail"})
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_one_failing_branch_leaves_the_rest_of_the_tree(
    emulator: RunningEmulator, gateway_for: GatewayFor, rest: Rest
) -> None:
    event = (await rest(emulator, "/event/events"))[0]
    transport = _FailingRoute(f"parent_id={event['id']}", 503)
    client = UpstreamClient(UpstreamSettings(base_url=emulator.api_url), transport=transport)
    try:
        gateway = gateway_for(emulator, client=client, batching="per-parent")
        result = await gateway.run(
            "{ eventCategories { nodes { events { nodes { id properties { nodes { id } } } } } } }"
        )
    finally:
        await client.aclose()
    assert result.data is not None
    events = [e for c in result.data["eventCategories"]["nodes"] for e in c["events"]["nodes"]]
    broken = [e for e in events if e["properties"] is None]
    assert [e["id"] for e in broken] == [event["id"]]
    assert all(e["properties"]["nodes"] for e in events if e["id"] != event["id"])
    assert _codes(result) == ["UPSTREAM_UNAVAILABLE"]
    assert result.errors is not None
    assert (result.errors[0].path or [])[-1] == "properties"
    assert "secret" not in result.errors[0].message


async def test_anything_unexpected_is_masked_with_the_request_id_and_logged(
    emulator: RunningEmulator, gateway_for: GatewayFor, caplog: pytest.LogCaptureFixture
) -> None:
    transport = _FailingRoute("/resource/catalog", ZeroDivisionError("a bug deep down"))
    client = UpstreamClient(UpstreamSettings(base_url=emulator.api_url), transport=transport)
    try:
        gateway = gateway_for(emulator, client=client)
        with caplog.at_level(logging.ERROR, logger="events_gateway.graph"):
            result = await gateway.run(CATEGORIES, request_id="req-42")
    finally:
        await client.aclose()
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "Internal server error"
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert error.path == ["eventCategories"]
    assert "a bug deep down" not in str(error.formatted)
    [record] = [r for r in caplog.records if r.name == "events_gateway.graph"]
    assert record.exc_info is not None
    assert record.exc_info[0] is ZeroDivisionError
    assert "req-42" in record.getMessage()
    assert DEMO_API_KEY not in caplog.text


async def test_the_key_never_reaches_a_message_or_a_log(
    emulator_factory: EmulatorFactory, gateway_for: GatewayFor, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = await emulator_factory(fault_rate=1.0, faults=("500",))
    with caplog.at_level(logging.DEBUG):
        result = await gateway_for(emulator).run(CATEGORIES)
    assert result.errors is not None
    assert DEMO_API_KEY not in str([e.formatted for e in result.errors])
    assert DEMO_API_KEY not in caplog.text
