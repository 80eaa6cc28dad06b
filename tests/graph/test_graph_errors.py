"""Every error code the graph layer produces, and the masking of everything else."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import events_gateway.upstream.errors as upstream_errors
from events_gateway.emulator import DEMO_API_KEY, RunningEmulator
from events_gateway.graph import ErrorCode, MissingKey
from events_gateway.graph.errors import UPSTREAM_CODES, extensions_for, message_for
from events_gateway.upstream import (
    BadRequest,
    RateLimited,
    UpstreamClient,
    UpstreamError,
    UpstreamMisuse,
    UpstreamSettings,
    UpstreamUnavailable,
)

from ..conftest import EmulatorFactory
from .conftest import AdminFor, Gateway, GatewayFor, Rest

CATEGORIES = "{ eventCategories { totalCount nodes { id } } }"


def _codes(result: Any) -> list[str]:
    return [error.extensions["code"] for error in result.errors or ()]


# --- the boundary: every upstream exception class has its code ----------------------------------------


def _tree(cls: type[UpstreamError]) -> Iterator[type[UpstreamError]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _tree(sub)


def _upstream_error_classes() -> set[type[UpstreamError]]:
    """Every class of the upstream package's tree: those ``upstream/errors.py`` defines, and every
    subclass of the root defined anywhere in the upstream package."""
    declared = {
        cls
        for _, cls in inspect.getmembers(upstream_errors, inspect.isclass)
        if issubclass(cls, UpstreamError)
    }
    subclasses = {cls for cls in _tree(UpstreamError) if cls.__module__.startswith("events_gateway.upstream")}
    return declared | subclasses


def test_every_upstream_exception_class_is_mapped_to_a_code() -> None:
    classes = _upstream_error_classes()
    assert len(classes) >= 10  # the walk found the tree, not nothing
    unmapped = sorted(cls.__name__ for cls in classes if cls not in UPSTREAM_CODES)
    assert unmapped == [], f"add these to graph/errors.py UPSTREAM_CODES: {unmapped}"
    for cls in classes:
        error = cls("msg")
        extensions = extensions_for(error)
        assert extensions is not None
        assert extensions["code"] is UPSTREAM_CODES[cls]


def test_the_upstream_package_carries_no_codes() -> None:
    for cls in _upstream_error_classes():
        assert not hasattr(cls, "code"), cls


def test_a_subclass_made_elsewhere_takes_its_nearest_mapped_ancestors_code() -> None:
    class Maintenance(UpstreamUnavailable):
        pass

    assert extensions_for(Maintenance("down for maintenance")) == {"code": ErrorCode.UPSTREAM_UNAVAILABLE}


def test_misuse_is_not_mapped_so_it_is_masked() -> None:
    assert extensions_for(UpstreamMisuse("bad header")) is None
    assert extensions_for(ZeroDivisionError()) is None


def test_field_errors_and_retry_after_ride_along() -> None:
    bad = BadRequest("invalid", field_errors={"owners_groups": ["not a list"], "parent": ["unknown"]})
    assert extensions_for(bad) == {
        "code": ErrorCode.BAD_USER_INPUT,
        "fieldErrors": {"ownersGroups": ["not a list"], "parentId": ["unknown"]},
    }
    one = BadRequest("invalid", field_errors={"title": ["required"]})
    assert extensions_for(one) == {
        "code": ErrorCode.BAD_USER_INPUT,
        "fieldErrors": {"title": ["required"]},
        "field": "title",
    }
    assert extensions_for(RateLimited("slow down", retry_after=3.0)) == {
        "code": ErrorCode.RATE_LIMITED,
        "retryAfter": 3.0,
    }


def test_a_message_falls_back_to_the_codes_default() -> None:
    assert message_for(
        UpstreamUnavailable("The upstream could not be reached."), ErrorCode.UPSTREAM_UNAVAILABLE
    ) == ("The upstream could not be reached.")
    assert message_for(UpstreamUnavailable(""), ErrorCode.UPSTREAM_UNAVAILABLE) == (
        ErrorCode.UPSTREAM_UNAVAILABLE.message
    )
    assert MissingKey().message == ErrorCode.UNAUTHENTICATED.message


# --- through the schema, against the emulator ----------------------------------------------------------


async def test_no_key_is_unauthenticated_without_calling_the_upstream(
    emulator: RunningEmulator, gateway: Gateway, admin_for: AdminFor
) -> None:
    admin = admin_for(emulator)
    await admin.reset()
    result = await gateway.run(CATEGORIES, key=None)
    assert result.data is None
    assert _codes(result) == ["UNAUTHENTICATED"]
    assert result.errors is not None
    assert result.errors[0].message == ErrorCode.UNAUTHENTICATED.message
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
    assert error.message == ErrorCode.INTERNAL_SERVER_ERROR.message
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
