"""The exception boundary is complete: every httpx failure kind becomes exactly one of ours.

A real server cannot raise each httpx exception class on cue, so this is the one place that uses
``httpx.MockTransport``: it raises each class in turn, and the client must map it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from events_gateway.upstream import (
    UpstreamClient,
    UpstreamError,
    UpstreamMisuse,
    UpstreamSettings,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from events_gateway.upstream._exceptions import (
    HTTPX_EXCEPTION_ROOTS,
    field_errors,
    mapped_class,
    retry_after_seconds,
)


def _subclasses(cls: type[Exception]) -> Iterator[type[Exception]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


def _httpx_exception_classes() -> list[type[Exception]]:
    """httpx's own exception classes: its exported ones and every subclass of its roots."""
    found = {sub for root in HTTPX_EXCEPTION_ROOTS for sub in _subclasses(root)}
    found |= {obj for _, obj in inspect.getmembers(httpx, inspect.isclass) if issubclass(obj, Exception)}
    return sorted((cls for cls in found if cls.__module__.startswith("httpx")), key=lambda cls: cls.__name__)


def _expected(cls: type[Exception]) -> type[BaseException]:
    if issubclass(cls, httpx.TimeoutException):
        return UpstreamTimeout
    if issubclass(cls, httpx.LocalProtocolError | httpx.UnsupportedProtocol | httpx.InvalidURL):
        return UpstreamMisuse
    if issubclass(cls, httpx.CookieConflict | httpx.StreamError):
        return UpstreamMisuse
    return UpstreamUnavailable


def test_every_httpx_exception_class_lies_under_a_mapped_root() -> None:
    for cls in _httpx_exception_classes():
        assert issubclass(cls, HTTPX_EXCEPTION_ROOTS), f"{cls.__name__} is outside the mapped roots"


def test_subclasses_defined_elsewhere_are_mapped_too() -> None:
    """Transport wrappers subclass httpx's errors (a timeout of their own, an open circuit); whatever is
    loaded now must map like its httpx base."""
    for root in HTTPX_EXCEPTION_ROOTS:
        for cls in _subclasses(root):
            assert mapped_class(cls) is not None, cls.__qualname__


@pytest.mark.parametrize("cls", _httpx_exception_classes(), ids=lambda cls: cls.__name__)
def test_every_httpx_exception_is_mapped(cls: type[Exception]) -> None:
    found = mapped_class(cls)
    assert found is not None, f"httpx.{cls.__name__} has no mapping"
    assert found[0] is _expected(cls)


def _instance(cls: type[Exception], request: httpx.Request) -> Exception:
    """An instance of any httpx exception class, whatever its constructor wants."""
    if issubclass(cls, httpx.HTTPStatusError):
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    if issubclass(cls, httpx.RequestError):
        return cls("boom", request=request)
    try:
        return cls()  # the StreamError family words its own message
    except TypeError:
        return cls("boom")


@pytest.mark.parametrize("cls", _httpx_exception_classes(), ids=lambda cls: cls.__name__)
async def test_the_client_raises_ours_from_the_original(cls: type[Exception]) -> None:
    raised: list[Exception] = []

    def fail(request: httpx.Request) -> httpx.Response:
        raised.append(_instance(cls, request))
        raise raised[-1]

    client = UpstreamClient(
        UpstreamSettings("http://upstream.test/api/v1"), transport=httpx.MockTransport(fail)
    )
    try:
        with pytest.raises(_expected(cls)) as caught:
            await client.session("key").list_event_categories()
    finally:
        await client.aclose()
    assert caught.value.__cause__ is raised[0]
    if isinstance(caught.value, UpstreamError):
        assert caught.value.route == "GET /event/category"
        assert caught.value.status is None
        assert "boom" not in str(caught.value)


async def test_our_own_errors_pass_through_the_boundary_unchanged() -> None:
    """A transport wrapper (retries, circuit breaker) may raise ours; the boundary must not rewrap it."""
    opened = UpstreamUnavailable("The circuit is open.", route="GET /event/category")

    def fail(request: httpx.Request) -> httpx.Response:
        raise opened

    client = UpstreamClient(
        UpstreamSettings("http://upstream.test/api/v1"), transport=httpx.MockTransport(fail)
    )
    try:
        with pytest.raises(UpstreamUnavailable) as caught:
            await client.session("key").list_event_categories()
    finally:
        await client.aclose()
    assert caught.value is opened


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 21 Oct 2015 07:28:00", None),  # a date without its zone is not trusted
    ],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(later, now=now.timestamp()) == 90.0
    assert retry_after_seconds(earlier, now=now.timestamp()) == 0.0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"title": ["This field is required."]}, {"title": ["This field is required."]}),
        ({"title": "Too long."}, {"title": ["Too long."]}),
        ({"non_field_errors": ["Bad."], "parent": ["Unknown.", "Wrong type."]},
         {"non_field_errors": ["Bad."], "parent": ["Unknown.", "Wrong type."]}),
        ({"properties": {"colour": ["Not allowed."]}}, {"properties.colour": ["Not allowed."]}),
        ({"detail": "Invalid filter."}, {"detail": ["Invalid filter."]}),
        ({"detail": [{"loc": ["query", "page"], "msg": "not an int"}]}, {"page": ["not an int"]}),
        (["a list"], {}),
        ("a string", {}),
        (None, {}),
        ({"count": 3, "ok": True}, {}),  # no messages in it
    ],
)  # fmt: skip
def test_field_errors_shapes(body: object, expected: dict[str, list[str]]) -> None:
    assert field_errors(body) == expected
