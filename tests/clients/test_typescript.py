"""The README's operations, typed by GraphQL Code Generator from ``schema.graphql``, compile under
``tsc --strict`` (with ``clients/typed/readme.ts`` using them as a client would)."""

from __future__ import annotations

import pytest

from .conftest import Clients

pytestmark = pytest.mark.clients


async def test_operation_types_of_the_readme_compile_under_strict_typescript(clients: Clients) -> None:
    await clients.run("npm", "run", "--silent", "typecheck")
