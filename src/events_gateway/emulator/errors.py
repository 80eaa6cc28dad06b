"""Error bodies exactly as the upstream (a Django REST Framework service) shapes them.

Two shapes only, both built here:

- ``{"detail": "<message>"}`` for auth, not found, method, page, throttling and server errors;
- ``{"<field>": ["<message>", ...]}`` for validation (400), with errors not tied to one field under
  ``non_field_errors``.

Handlers raise :class:`ApiError` (or a subclass); the outermost middleware renders it. Message texts are
named constants so tests assert on the same strings the emulator sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

NOT_AUTHENTICATED = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."
NOT_FOUND = "Not found."
INVALID_PAGE = "Invalid page."
SERVER_ERROR = "A server error occurred."
SERVICE_UNAVAILABLE = "Service temporarily unavailable, try again later."
STALLED = "The upstream took too long to answer."
METHOD_NOT_ALLOWED = 'Method "{method}" not allowed.'
THROTTLED = "Request was throttled. Expected available in {seconds} seconds."

REQUIRED = "This field is required."
BLANK = "This field may not be blank."
NULL = "This field may not be null."
NOT_A_STRING = "Not a valid string."
NOT_A_BOOLEAN = "Must be a valid boolean."
NOT_AN_OBJECT = 'Expected a dictionary of items but got type "{type}".'
NOT_A_LIST = 'Expected a list of items but got type "{type}".'
INVALID_UUID = '"{value}" is not a valid UUID.'
DOES_NOT_EXIST = 'Invalid pk "{value}" - object does not exist.'
WRONG_PARENT_KIND = 'Invalid pk "{value}" - the parent of {child} must be {parent}.'
NO_PARENT_ALLOWED = "A category has no parent; leave this field out or null."
WRONG_ENTITY_TYPE = '"{value}" is not valid here; this route serves "{expected}".'
MALFORMED_JSON = "JSON parse error - {reason}"
BODY_NOT_AN_OBJECT = "Invalid data. Expected a dictionary, but got {type}."
INVALID_QUERY_VALUE = "Enter a valid UUID."

NON_FIELD_ERRORS = "non_field_errors"

FieldErrors = Mapping[str, Sequence[str]]


def json_type_name(value: Any) -> str:
    """The JSON type a client sent, named as DRF names it in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return type(value).__name__


def envelope(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> web.Response:
    """The one place an error body becomes a response."""
    return web.json_response(dict(body), status=status, headers=dict(headers or {}))


def detail(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return envelope(status, {"detail": message}, headers)


class ApiError(Exception):
    """Raised by handlers; rendered by the outermost middleware into the upstream's error envelope."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return envelope(self.status, self.body, self.headers)


class NotFoundError(ApiError):
    def __init__(self, message: str = NOT_FOUND) -> None:
        super().__init__(404, {"detail": message})


class ValidationError(ApiError):
    """400 with DRF field errors, e.g. ``{"title": ["This field is required."]}``."""

    def __init__(self, errors: FieldErrors) -> None:
        self.errors = {name: list(messages) for name, messages in errors.items()}
        super().__init__(400, self.errors)

    @classmethod
    def of(cls, field: str, message: str) -> ValidationError:
        return cls({field: [message]})


class AuthError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, {"detail": message}, {"WWW-Authenticate": 'Bearer realm="api"'})


class ThrottledError(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429, {"detail": THROTTLED.format(seconds=retry_after)}, {"Retry-After": str(retry_after)}
        )
        self.retry_after = retry_after
