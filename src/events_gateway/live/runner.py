"""Run a live query's query once, as a request of its own: fresh loaders, its own deadline.

Each poll is a complete execution through the same schema, extensions and limits as ``POST /graphql``,
so its result is exactly what the query returns there. A live query keeps one request id for all its
polls, so that a masked error (which names the request id) reads the same on every poll and does not
count as a change. With the gateway's cache, a poll reads through it: every GET asks the upstream (so a
change made in Secoda shows at the next poll, not a TTL later) and files its answer, so the requests of the
same key that follow are served what the poll just read.
"""

from __future__ import annotations

import strawberry
from graphql import ExecutionResult

from ..cache import Cache
from ..graph import LiveRequest, make_context
from ..settings import Settings
from ..upstream import UpstreamClient, deadline_scope

__all__ = ["QueryRunner"]


class QueryRunner:
    """Executes :class:`LiveRequest` s against ``schema`` through ``client``.

    ``cache``, when given, is read through and refilled by every poll. A poll's upstream calls reach the
    metrics as any request's do, through the client's call listeners.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        client: UpstreamClient,
        settings: Settings,
        *,
        cache: Cache | None = None,
    ) -> None:
        self._schema = schema
        self._cache = cache
        self._client = client
        self._settings = settings

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
        return ExecutionResult(data=result.data, errors=result.errors)
