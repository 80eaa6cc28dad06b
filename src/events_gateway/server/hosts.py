"""Which ``Host`` values name this gateway: parsing a ``Host`` header and the rule built from settings."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ..loopback import is_loopback
from ..settings import Settings, SettingsError

#: ``name``, ``name:port``, ``[v6]`` or ``[v6]:port``; no user info, path or spaces.
_HOST = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[^\s:/@\[\]]+))(?::(?P<port>\d{1,5}))?")


def normal_name(name: str) -> str:
    """One spelling per host: lower case, no trailing dot, addresses in their compressed form."""
    name = name.lower().rstrip(".")
    try:
        return ipaddress.ip_address(name).compressed
    except ValueError:
        return name


def split_host(value: str) -> tuple[str, int | None] | None:
    """A ``Host`` value as (name, port or ``None``), or ``None`` when it is not one."""
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    port = match["port"]
    return normal_name(match["v6"] or match["name"]), int(port) if port else None


@dataclass(frozen=True, slots=True)
class HostRule:
    """Which ``Host`` values name this gateway, and whether others are refused.

    Example::

        rule = HostRule.from_settings(Settings(allowed_hosts=("gw.internal:8000",)))
        rule.serves("127.0.0.1:8000"), rule.serves("gw.internal:8000"), rule.serves("evil.example")
        # True, True, False
    """

    enforced: bool
    any_host: bool = False
    listed: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> HostRule:
        """Enforced on a loopback bind, or when ``allowed_hosts`` is set; raises ``SettingsError`` for an
        entry that is not a host name with an optional port."""
        listed: set[tuple[str, int | None]] = set()
        for entry in settings.allowed_hosts:
            if entry == "*":
                continue
            parsed = split_host(entry)
            if parsed is None:
                raise SettingsError(
                    f"EVENTS_GATEWAY_ALLOWED_HOSTS: {entry!r} is not a host name with an optional port"
                )
            listed.add(parsed)
        return cls(
            enforced=is_loopback(settings.host) or bool(settings.allowed_hosts),
            any_host="*" in settings.allowed_hosts,
            listed=frozenset(listed),
        )

    def trusts(self, host: str | None) -> bool:
        """Whether a ``Host`` value names this gateway: loopback, listed (with its port or any), or ``*``."""
        if self.any_host:
            return True
        parsed = split_host(host) if host else None
        if parsed is None:
            return False
        name, port = parsed
        return is_loopback(name) or (name, None) in self.listed or (name, port) in self.listed

    def serves(self, host: str | None) -> bool:
        """Whether to answer at all. A request without ``Host`` (HTTP/1.0) cannot come from a browser."""
        return not self.enforced or host is None or self.trusts(host)
