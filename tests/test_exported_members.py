"""Each package's ``__all__`` is exactly the public names its ``__init__`` defines or imports, in order.

The list is read from the package itself, never restated here, so a name imported into ``__init__`` and
left out of ``__all__`` (or listed and never imported) fails, and every new package is checked too.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import events_gateway

#: Every package below the root (the root itself only carries ``__version__``).
PACKAGES = sorted(
    info.name for info in pkgutil.walk_packages(events_gateway.__path__, "events_gateway.") if info.ispkg
)


def public_names(package: ModuleType) -> list[str]:
    """The names ``package`` binds, less ``_``-prefixed ones and submodules (bound by importing them)."""
    return [
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    ]


def isort_order(name: str) -> tuple[int, str]:
    """The order ruff keeps ``__all__`` in (RUF022): CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return 0, name
    if name[0].isupper():
        return 1, name
    return 2, name


def test_every_package_is_found() -> None:
    assert {
        "events_gateway.emulator",
        "events_gateway.graph",
        "events_gateway.observability",
        "events_gateway.server",
        "events_gateway.upstream",
    } <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_every_public_name_sorted(name: str) -> None:
    package = importlib.import_module(name)
    assert package.__all__ == sorted(public_names(package), key=isort_order)
