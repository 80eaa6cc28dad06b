"""The one loopback test behind the gateway's host rule and the emulator's --admin bind."""

from __future__ import annotations

import pytest

from events_gateway.loopback import is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("::1", True),
        ("[::1]", True),
        ("0:0:0:0:0:0:0:1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("localhost.example", False),
        ("127.0.0.1.nip.io", False),  # a name that resolves to loopback is still a name: DNS can change
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
