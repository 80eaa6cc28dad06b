"""Gateway fixtures for the graph tests: the real schema over a real client to a real emulator on loopback.

- ``gateway_for(emulator, **settings)``: a ``Gateway`` whose ``run(query, variables, key=...)`` executes
  the schema with a fresh context, as the server does for each request.
  ``data(...)`` returns the data of a request that must succeed, ``error(...)`` the first error's
  ``extensions`` of one that must fail.
- ``gateway``: one over the shared demo emulator.
- ``rest``: ``await rest(emulator, path, key=..., **params)`` reads every page of a route directly, to
  compare the gateway's answers with the upstream's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.types import ExecutionResult

from events_gateway.emulator import DEMO_API_KEY, EmulatorAdmin, RunningEmulator
from events_gateway.graph import GraphContext, build_schema, make_context
from events_gateway.settings import Settings
from events_gateway.upstream import UpstreamClient, UpstreamSettings

from ..conftest import AllPages


@dataclass
class Gateway:
    """The schema bound to one upstream client; each ``run`` is one GraphQL request."""

    client: UpstreamClient
    settings: Settings
    schema: strawberry.Schema
    contexts: list[GraphContext] = field(default_factory=list)

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = DEMO_API_KEY,
        request_id: str = "test-request",
    ) -> ExecutionResult:
        context = make_context(client=self.client, api_key=key, settings=self.settings, request_id=request_id)
        self.contexts.append(context)
        return await self.schema.execute(query, variable_values=variables, context_value=context)

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """The data of a request that must succeed without errors."""
        result = await self.run(query, variables, **kwargs)
        assert result.errors is None, [error.formatted for error in result.errors or ()]
        return result.data

    async def error(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """The ``extensions`` of the first error of a request that must fail."""
        result = await self.run(query, variables, **kwargs)
        assert result.errors, result.data
        extensions = result.errors[0].extensions
        assert extensions is not None
        return extensions


GatewayFor = Callable[..., Gateway]


@pytest.fixture
async def gateway_for() -> AsyncIterator[GatewayFor]:
    async with AsyncExitStack() as stack:

        def make(
            emulator: RunningEmulator,
            *,
            timeout: float = 10.0,
            client: UpstreamClient | None = None,
            **settings: Any,
        ) -> Gateway:
            if client is None:
                client = UpstreamClient(UpstreamSettings(base_url=emulator.api_url, timeout=timeout))
                stack.push_async_callback(client.aclose)
            # The query limits have their own tests; here they must not refuse the big trees measured.
            settings.setdefault("max_cost", 10**9)
            gateway_settings = Settings(upstream_url=emulator.api_url, **settings)
            return Gateway(client=client, settings=gateway_settings, schema=build_schema(gateway_settings))

        yield make


@pytest.fixture
def gateway(emulator: RunningEmulator, gateway_for: GatewayFor) -> Gateway:
    return gateway_for(emulator)


Rest = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def rest(all_pages: AllPages) -> Rest:
    async def read(
        emulator: RunningEmulator, path: str, *, key: str = DEMO_API_KEY, **params: Any
    ) -> list[Any]:
        async with httpx.AsyncClient(
            base_url=emulator.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        ) as client:
            return await all_pages(client, path, **params)

    return read


AdminFor = Callable[[RunningEmulator], EmulatorAdmin]


@pytest.fixture
async def admin_for() -> AsyncIterator[AdminFor]:
    """``admin_for(emulator)``: the test-aid client of any emulator started in the test."""
    async with AsyncExitStack() as stack:

        def make(emulator: RunningEmulator) -> EmulatorAdmin:
            admin = EmulatorAdmin(emulator.url)
            stack.push_async_callback(admin.aclose)
            return admin

        yield make
