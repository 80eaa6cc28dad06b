"""The schema factory: types, roots and the extensions every request runs through."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types.execution import ExecutionContext

from ..settings import Settings
from .context import ReleaseLoaders
from .limits import limit_extensions
from .live import LiveExecutionContext, live_subscription
from .masking import ErrorMasking
from .mutations import Mutation
from .projection import ProjectPages
from .queries import Query
from .types import Event, EventCategory, EventProperty

#: Distinct documents whose parse and validation are kept (clients send the same few again and again;
#: the bound keeps a stream of unique documents from growing memory).
DOCUMENT_CACHE_SIZE = 256


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, minus its own error log: ``ErrorMasking`` logs the unexpected errors (with
    the request id) and expected ones (a missing object, a bad input) are not the operator's concern."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(
    settings: Settings, *, extensions: Sequence[type[SchemaExtension] | SchemaExtension] = ()
) -> strawberry.Schema:
    """The gateway's schema for ``settings``; ``extensions`` run inside the error masking, so a failure in
    one of them is masked too.

    Example::

        schema = build_schema(settings)
        result = await schema.execute(query, context_value=make_context(...))
    """
    # The caches come last: the limits check a document's text before it is parsed and add their rule
    # before it is validated, even when the parsed document or its verdict is already cached.
    caches = [
        partial(ParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
    ]
    all_extensions: list[Any] = [
        ErrorMasking,
        ReleaseLoaders,
        ProjectPages,
        *limit_extensions(settings),
        *extensions,
        *caches,
    ]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=live_subscription(Query),
        types=[EventCategory, Event, EventProperty],
        extensions=all_extensions,
        execution_context_class=LiveExecutionContext,
    )
