"""Run a live query's query once, as a request of its own: fresh loaders, its own deadline.

Each poll is a complete execution through the same schema, extensions and limits as ``POST /graphql``,
so its result is exactly what the query returns there. A live query keeps one request id for all its
polls, so that a masked error (which names the request id) reads the same on every poll and does not
count as a change. With the gateway's cache, a poll reads through it: every GET asks the upstream (so a
change made in Secoda shows at the next poll, not a TTL later) and files its answer, so the requests of the
same key that follow are served what the poll just read.
"""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import ExecutionResult

from ..cache import Cache
from ..graph import LiveRequest, make_context
from ..settings import Settings
from ..upstream import UpstreamCall, UpstreamClient, deadline_scope

__all__ = ["QueryRunner"]


class QueryRunner:
    """Executes :class:`LiveRequest` s against ``schema`` through ``client``.

    ``on_call`` hears of every upstream exchange a poll made (the server counts them in its metrics, as
    it counts a request's); ``cache``, when given, is read through and refilled by every poll.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        client: UpstreamClient,
        settings: Settings,
        *,
        on_call: Callable[[UpstreamCall], None] | None = None,
        cache: Cache | None = None,
    ) -> None:
        self._schema = schema
        self._cache = cache
        self._client = client
        self._settings = settings
        self._on_call = on_call

    async def run(self, request: LiveRequest, api_key: str | None, request_id: str) -> ExecutionResult:
        """The query's complete result now (errors included; it never raises for a failed field)."""
        context = make_context(
            client=self._client,
            api_key=api_key,
            settings=self._settings,
            request_id=request_id,
            cache=self._cache,
            read_through=True,
        )
        with deadline_scope(self._settings.request_deadline):
            result = await self._schema.execute(
                request.document,
                variable_values=dict(request.variables),
                context_value=context,
                operation_name=request.operation_name,
            )
        if self._on_call is not None:
            for call in context.calls:
                self._on_call(call)
        return ExecutionResult(data=result.data, errors=result.errors)
