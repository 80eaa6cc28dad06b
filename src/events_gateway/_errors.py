"""The configuration error every layer raises, in a module that imports nothing of the gateway.

Why a leaf of its own: ``settings.py`` imports the upstream package's defaults, so the upstream package
cannot import ``settings.py`` to raise its error. ``events_gateway.settings.SettingsError`` is this class.
"""

from __future__ import annotations

__all__ = ["SettingsError"]


class SettingsError(ValueError):
    """A setting has a value the gateway cannot run with; the message names the variable (or field) and
    the value it got, e.g. ``EVENTS_GATEWAY_MAX_COST must be a positive integer, got 0``."""
