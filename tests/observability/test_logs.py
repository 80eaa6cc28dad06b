"""Structured logs: JSON lines, the request id on every record of a request, an access line per request,
and no API key anywhere, whatever the request did."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from events_gateway.emulator import DEMO_API_KEY
from events_gateway.observability import REDACTED, configure_logging
from events_gateway.server import DEMO_QUERY
from events_gateway.settings import Settings

from ..conftest import EmulatorFactory, GatewayFactory

#: A key the emulator does not know: the upstream answers 401 and the gateway says UNAUTHENTICATED.
UNKNOWN_KEY = "sk-unknown-0f9e8d7c6b5a49382716"


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@contextlib.contextmanager
def logging_to(settings: Settings) -> Iterator[io.StringIO]:
    """Logging configured as ``serve`` does it with ``settings``, into a string; put back afterwards."""
    root = logging.getLogger()
    access, httpx_logger = logging.getLogger("aiohttp.access"), logging.getLogger("httpx")
    saved = (list(root.handlers), root.level, access.propagate, httpx_logger.level)
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        access.propagate = saved[2]
        httpx_logger.setLevel(saved[3])


@pytest.fixture
def captured_logs() -> Iterator[Captured]:
    """Every log record of the test, as ``serve`` would write it (JSON, DEBUG and up)."""
    with logging_to(Settings(log_level="DEBUG")) as stream:
        yield Captured(stream)


async def test_no_key_reaches_the_log_whatever_the_request_did(
    captured_logs: Captured,
    emulator_factory: EmulatorFactory,
    gateway_factory: GatewayFactory,
    http: httpx.AsyncClient,
) -> None:
    gateway = await gateway_factory(api_key=DEMO_API_KEY)  # the fallback key is a secret too
    failing = await emulator_factory(fault_rate=1.0, faults=("500", "503", "malformed"))
    broken = await gateway_factory(upstream_url=failing.api_url)
    for base, key in [
        (gateway, DEMO_API_KEY),
        (gateway, UNKNOWN_KEY),
        (gateway, None),
        (broken, DEMO_API_KEY),
        (broken, UNKNOWN_KEY),
    ]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        await http.post(f"{base}/graphql", json={"query": DEMO_QUERY}, headers=headers)
        await http.get(
            f"{base}/graphql", params={"query": "{ eventCategories { totalCount } }"}, headers=headers
        )
        await http.post(
            f"{base}/graphql", content=b"{broken", headers={**headers, "Content-Type": "application/json"}
        )

    records = captured_logs.records()
    assert len(records) > 20  # upstream debug lines, retries, access lines: the log did run
    assert DEMO_API_KEY not in captured_logs.text
    assert UNKNOWN_KEY not in captured_logs.text


async def test_every_record_of_a_request_carries_its_id(
    captured_logs: Captured, gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    response = await http.post(
        f"{gateway}/graphql",
        json={"query": DEMO_QUERY},
        headers={**api_headers, "X-Request-Id": "req-logs-1"},
    )
    assert response.headers["X-Request-Id"] == "req-logs-1"
    records = captured_logs.records()
    upstream = [r for r in records if r["logger"] == "events_gateway.upstream"]
    assert upstream, "the upstream client logs each call at DEBUG"
    assert {r["request_id"] for r in upstream} == {"req-logs-1"}
    for record in records:
        assert {"timestamp", "level", "logger", "message", "request_id"} <= record.keys()


async def test_one_access_line_per_request_with_operation_status_duration_and_calls(
    captured_logs: Captured, gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    first = await http.post(f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers=api_headers)
    second = await http.post(f"{gateway}/graphql", json={"query": "query Nothing { __typename }"})
    await http.get(f"{gateway}/healthz")
    access = [r for r in captured_logs.records() if r["logger"] == "events_gateway.access"]
    assert len(access) == 3
    demo, nothing, health = access
    assert demo["request_id"] == first.headers["X-Request-Id"]
    assert (demo["method"], demo["path"], demo["status"]) == ("POST", "/graphql", 200)
    assert demo["operation"] == "CategoriesEventsProperties"
    assert demo["outcome"] == "ok"
    assert demo["upstream_calls"] >= 3
    assert demo["duration_ms"] > 0
    assert nothing["request_id"] == second.headers["X-Request-Id"]
    assert (nothing["operation"], nothing["upstream_calls"]) == ("Nothing", 0)
    assert (health["path"], health["status"], health["operation"]) == ("/healthz", 200, None)


async def test_at_info_upstream_urls_are_not_logged_line_by_line(
    gateway: str, http: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    with logging_to(Settings()) as stream:
        await http.post(f"{gateway}/graphql", json={"query": DEMO_QUERY}, headers=api_headers)
    loggers = [json.loads(line)["logger"] for line in stream.getvalue().splitlines()]
    assert loggers == ["events_gateway.access"]


def test_bearer_tokens_are_redacted_in_messages_and_tracebacks(captured_logs: Captured) -> None:
    logger = logging.getLogger("events_gateway.test")
    logger.warning("sent %s", {"Authorization": "Bearer tok-123456"})
    try:
        raise RuntimeError("upstream echoed Authorization: Bearer tok-abcdef")
    except RuntimeError:
        logger.exception("failed")
    text = captured_logs.text
    assert "tok-123456" not in text
    assert "tok-abcdef" not in text
    warning, failure = captured_logs.records()
    assert REDACTED in warning["message"]
    assert REDACTED in failure["exc_info"]
    assert warning["request_id"] is None  # outside any request


def test_the_text_format_names_the_request_in_brackets() -> None:
    with logging_to(Settings(log_format="text")) as stream:
        logging.getLogger("events_gateway.test").info("api_key=abc123 seen")
    line = stream.getvalue()
    assert "INFO events_gateway.test [None] api_key=[REDACTED] seen" in line
