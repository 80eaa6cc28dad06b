"""Whether a host names this machine's loopback interface: the one test behind every "loopback only" rule.

The gateway uses it for its bind address and for ``Host`` headers (DNS-rebinding protection); the emulator
uses it to keep its key-less test aids off the network. Names are not resolved: only ``localhost`` and
loopback addresses (``127.0.0.0/8``, ``::1``) count, so no DNS answer can change the verdict.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]

#: Names every resolver maps to the loopback interface without asking DNS.
LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.x.y.z`` and ``::1`` (brackets, case and a trailing dot allowed).

    Example::

        is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("0.0.0.0")   # True, True, False
    """
    name = host.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
