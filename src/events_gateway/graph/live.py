"""The ``Subscription`` root: a live twin of every ``Query`` field, with the same name, arguments and type.

The upstream cannot push, so a subscription is a query run again and again. Subscribing to
``subscription S($n: Int) { eventCategories(first: $n) { … } }`` means: the answer of the query
``query S($n: Int) { eventCategories(first: $n) { … } }`` now, and again whenever it changes. The twin
field's resolver does not resolve anything itself: it turns the subscription operation back into that
query (:func:`live_request`) and hands it to the *live source* the transport supplied as the root value
(:class:`LiveSource`: the server's registry of polled queries), which answers with complete results of
the query (:class:`LiveEvent`). :class:`LiveExecutionContext` then passes each such result through
unchanged, so every result a subscriber sees is exactly what the query returns, errors and all.

The twins are generated from ``Query``'s fields when the schema is built, so they cannot drift from it.

Example::

    schema = strawberry.Schema(query=Query, subscription=live_subscription(Query),
                               execution_context_class=LiveExecutionContext)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson
import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    print_ast,
    separate_operations,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.pyutils import Path, Undefined
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

from .codes import ErrorCode
from .errors import GraphError
from .execution import FastExecutionContext
from .selection import KINDS_BY_TYPE
from .types import Info

__all__ = [
    "LiveEvent",
    "LiveExecutionContext",
    "LiveRequest",
    "LiveSource",
    "LiveUnavailable",
    "kinds_read",
    "live_request",
    "live_subscription",
    "query_twin",
]


class LiveUnavailable(GraphError):
    """A subscription ran where no live source answers it (a plain HTTP request, a bare ``execute``)."""

    code = ErrorCode.LIVE_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class LiveRequest:
    """A subscription, as the query it re-runs.

    Attributes:
        document: the query, printed (one spelling for every subscriber who wrote the same operation).
        variables: the values the client gave for the variables the operation declares.
        operation_name: the operation's name, ``None`` when anonymous.
        kinds: the upstream kinds the query reads (``category``, ``event``, ``event_property``): a write
            of another kind cannot change its answer.
    """

    document: str
    variables: Mapping[str, Any]
    operation_name: str | None
    kinds: frozenset[str]


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One complete result of the query, as a subscription event (the payload its twin field yields).

    ``encoded_data`` is ``result.data`` already encoded as JSON, when the source has it: every subscriber
    of a live query is sent the same tree, which is then encoded once, not once per subscriber.
    """

    result: GraphQLExecutionResult
    encoded_data: bytes | None = None


@runtime_checkable
class LiveSource(Protocol):
    """What a transport passes as the root value of a subscription: it answers a :class:`LiveRequest`
    with the query's result now and each changed result later, until the iterator is closed."""

    def watch(self, request: LiveRequest) -> AsyncIterator[LiveEvent]:
        """Start watching; raises a ``GraphError`` when it may not (a limit), before any result."""
        ...


def query_twin(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> DocumentNode:
    """The query with ``operation``'s name, variables and selection, and the fragments it spreads.

    Operation directives are dropped: a directive allowed on subscriptions need not be on queries, and
    none of this schema's apply to operations.
    """
    query = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=(),
        selection_set=operation.selection_set,
    )
    every = DocumentNode(definitions=(query, *(fragments[name] for name in sorted(fragments))))
    # ``separate_operations`` keeps the fragments the operation reaches and only those.
    return next(iter(separate_operations(every).values()))


def kinds_read(schema: GraphQLSchema, document: DocumentNode) -> frozenset[str]:
    """The upstream kinds whose objects (or lists of them, or counts) any field of ``document`` returns."""
    table = _kind_table(schema)
    kinds: set[str] = set()
    type_info = TypeInfo(schema)

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            named = get_named_type(type_info.get_type())
            if named is not None:
                kinds.update(table.get(named.name, ()))

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return frozenset(kinds)


def _kind_table(schema: GraphQLSchema) -> dict[str, frozenset[str]]:
    """Type name → kinds it shows: an object type its own, a connection its nodes', an interface or union
    those of its possible types. Built once per schema."""
    cached = schema.extensions.get("events_gateway_kinds") if schema.extensions else None
    if isinstance(cached, dict):
        return cached
    own = {name: frozenset({kind}) for name, kind in KINDS_BY_TYPE.items()}

    def kinds_of(named: GraphQLNamedType) -> frozenset[str]:
        if named.name in own:
            return own[named.name]
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            return frozenset().union(*(kinds_of(t) for t in schema.get_possible_types(named)))
        if isinstance(named, GraphQLObjectType) and "nodes" in named.fields:
            return kinds_of(get_named_type(named.fields["nodes"].type))
        return frozenset()

    table = {name: kinds for name, named in schema.type_map.items() if (kinds := kinds_of(named))}
    schema.extensions = {**(schema.extensions or {}), "events_gateway_kinds": table}
    return table


def live_request(info: Info) -> LiveRequest:
    """The query twin of the subscription ``info`` belongs to, with the variables the client gave."""
    # Strawberry's Info hides the fragments and the variables as sent; graphql-core's info has both.
    raw = info._raw_info
    document = query_twin(raw.operation, raw.fragments)
    variables = {
        name: source.value
        for name, source in raw.variable_values.sources.items()
        if source.value is not Undefined
    }
    return LiveRequest(
        document=print_ast(document),
        variables=variables,
        operation_name=raw.operation.name.value if raw.operation.name else None,
        kinds=kinds_read(raw.schema, document),
    )


async def _subscribe(root: Any, info: Info, **_arguments: Any) -> AsyncIterator[LiveEvent]:
    """Every twin's resolver: the arguments are already in the query twin, so they are not read here."""
    if not isinstance(root, LiveSource):
        raise LiveUnavailable()
    return root.watch(live_request(info))


def live_subscription(query: type) -> type:
    """The ``Subscription`` type: for each field of the strawberry type ``query``, a twin field."""
    definition = get_object_definition(query, strict=True)
    namespace: dict[str, Any] = {}
    for field in definition.fields:
        twin = StrawberryField(
            python_name=field.python_name,
            graphql_name=field.graphql_name,
            type_annotation=field.type_annotation,
            is_subscription=True,
            description=f"{field.description} Live: this answer now, then again whenever it changes."
            if field.description
            else None,
            base_resolver=StrawberryResolver(_subscribe),
            deprecation_reason=field.deprecation_reason,
        )
        twin.arguments = list(field.arguments)
        if twin.type_annotation is None and field.base_resolver is not None:
            twin.type_annotation = field.base_resolver.type_annotation
        namespace[field.python_name] = twin
    namespace["__doc__"] = "Live queries: each field answers as its Query twin does, now and on change."
    return strawberry.type(type("Subscription", (), namespace))


class LiveExecutionContext(FastExecutionContext):
    """The gateway's executor, which hands a live result through as the subscription event's answer.

    graphql-core executes a subscription's selection once per event, with the event as root value; a
    :class:`LiveEvent` already is the complete answer of the same selection, so it is returned as it is.
    A subscription executed as if it were a query (a plain HTTP request) answers ``LIVE_UNAVAILABLE``.
    """

    def execute_operation(self, serially: bool | None = None) -> Any:
        event = self.root_value
        if isinstance(event, LiveEvent):
            if event.encoded_data is None:
                return event.result
            # orjson writes a Fragment's bytes as they are, wherever the response is encoded.
            data: Any = orjson.Fragment(event.encoded_data)
            return GraphQLExecutionResult(data=data, errors=event.result.errors)
        if self.operation.operation is OperationType.SUBSCRIPTION:
            code = ErrorCode.LIVE_UNAVAILABLE
            error = GraphQLError(code.message, extensions={"code": code})
            return GraphQLExecutionResult(data=None, errors=[error])
        return super().execute_operation(serially)

    def build_resolve_info(
        self,
        field_def: GraphQLField,
        field_nodes: list[FieldNode],
        parent_type: GraphQLObjectType,
        path: Path,
    ) -> GraphQLResolveInfo[Any]:
        info = super().build_resolve_info(field_def, field_nodes, parent_type, path)
        if parent_type is self.schema.subscription_type:
            # A twin re-runs the variables as the client sent them: Strawberry's info carries them coerced
            # (enums as Python values, defaults filled in), graphql-core's container has both.
            return info._replace(variable_values=self.variable_values)
        return info
