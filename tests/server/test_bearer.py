"""Which ``Authorization`` headers carry a caller's key (any other gives none, never the fallback key)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from events_gateway.server import bearer_key


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Bearer abc-123", "abc-123"),
        ("bearer abc-123", "abc-123"),
        ("BEARER   abc-123  ", "abc-123"),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("abc-123", None),
        ("", None),
    ],
)
def test_bearer_key(header: str, key: str | None) -> None:
    request = make_mocked_request("POST", "/graphql", headers={"Authorization": header} if header else {})
    assert bearer_key(request) == key
