"""The schema factory: types, roots and the extensions every request runs through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from ..settings import Settings
from .context import ReleaseLoaders
from .execution import FastExecutionContext
from .limits import limit_extensions
from .masking import ErrorMasking
from .mutations import Mutation
from .queries import Query
from .types import Event, EventCategory, EventProperty


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
    all_extensions: list[Any] = [ErrorMasking, ReleaseLoaders, *limit_extensions(settings), *extensions]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[EventCategory, Event, EventProperty],
        extensions=all_extensions,
        execution_context_class=FastExecutionContext,
    )
