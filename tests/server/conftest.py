"""The server tests use the gateway fixtures of ``tests/conftest.py``; their types are named here too, so a
server test imports them from its own folder's conftest."""

from __future__ import annotations

from ..conftest import EmulatorFactory, GatewayFactory, StartApp

__all__ = ["EmulatorFactory", "GatewayFactory", "StartApp"]
