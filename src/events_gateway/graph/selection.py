"""The children lists an operation selects below a list, read from the document before they are resolved.

The planner (``planner.py``) can only ask for a level's children by type alone in the same round as
their parents if it knows, when the parents' list starts, that the children will be asked for and with
which windows. graphql-core's own field collection reads that here, with fragments, aliases and
``@skip``/``@include`` settled exactly as the executor will settle them. The cost rule (``cost.py``)
reads the same trees, so that every call the planner may add is predicted.

A children list is any field with a ``first`` argument on a resource type that returns a connection of
another resource type (``EventCategory.events``, ``Event.properties``); the connection's objects are
reached through ``nodes`` and ``edges { node }``.

Example, at a root resolver::

    nested = selected_children(info._raw_info, default_first=100, max_first=1_000)
    # (NestedList("event", filtered=False, window=Window(0, 100), below=(NestedList(...),)),)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FieldDetailsList,
    FragmentDetails,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values

from ..upstream import CATEGORY, EVENT, EVENT_PROPERTY
from .errors import InvalidInput
from .pagination import Window, decode_cursor

#: The object types of the three kinds, by their GraphQL names.
KINDS_BY_TYPE: Final = {"EventCategory": CATEGORY, "Event": EVENT, "EventProperty": EVENT_PROPERTY}
#: The arguments that choose a window; any other one given narrows or reorders the list.
WINDOW_ARGUMENTS: Final = frozenset({"first", "after"})


@dataclass(frozen=True, slots=True)
class FieldTree:
    """One operation's merged field tree, as the executor will run it: what graphql-core's field
    collection needs to list the fields selected below a field (fragments merged, ``@skip``/``@include``
    settled). The cost rule walks it too."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode

    def subfields(self, type_: GraphQLObjectType, details: FieldDetailsList) -> Iterable[FieldDetailsList]:
        """The fields selected on objects of ``type_`` below the field ``details``, one per response key."""
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, type_, details
        )
        return collected.grouped_field_set.values()


@dataclass(frozen=True, slots=True)
class NestedList:
    """One children list the operation selects on each object of a list (one per response key).

    Attributes:
        kind: the kind of the children.
        filtered: an argument besides ``first`` and ``after`` is given (the list is not every child).
        window: the slice each parent's connection returns; ``None`` when its arguments are invalid
            (the field's own resolver then says why).
        below: the children lists selected on these children in turn.
    """

    kind: str
    filtered: bool
    window: Window | None
    below: tuple[NestedList, ...]


class _Reader:
    """One walk over the merged field tree below a field, as the executor will run it."""

    def __init__(self, tree: FieldTree, default_first: int, max_first: int | None) -> None:
        self.tree = tree
        self.default_first = default_first
        self.max_first = max_first

    def connection(self, connection_type: Any, details: FieldDetailsList) -> tuple[NestedList, ...]:
        """The children lists selected on the objects of a connection (through ``nodes`` and ``edges``)."""
        if not isinstance(connection_type, GraphQLObjectType):
            return ()
        found: list[NestedList] = []
        for field_details in self.tree.subfields(connection_type, details):
            name = field_details[0].node.name.value
            field = connection_type.fields.get(name)
            if field is None:
                continue
            named = get_named_type(field.type)
            if name == "nodes" and isinstance(named, GraphQLObjectType):
                found += self.objects(named, field_details)
            elif name == "edges" and isinstance(named, GraphQLObjectType):
                for edge_details in self.tree.subfields(named, field_details):
                    node = named.fields.get(edge_details[0].node.name.value)
                    node_type = get_named_type(node.type) if node is not None else None
                    if edge_details[0].node.name.value == "node" and isinstance(node_type, GraphQLObjectType):
                        found += self.objects(node_type, edge_details)
        return tuple(found)

    def objects(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> list[NestedList]:
        """The children lists selected on objects of ``object_type``."""
        if object_type.name not in KINDS_BY_TYPE:
            return []
        found: list[NestedList] = []
        for field_details in self.tree.subfields(object_type, details):
            node = field_details[0].node
            field = object_type.fields.get(node.name.value)
            if field is None or "first" not in field.args:
                continue
            connection_type = get_named_type(field.type)
            kind = _kind_of_nodes(connection_type)
            if kind is None:
                continue
            try:
                arguments = get_argument_values(field, node, self.tree.variables)
            except GraphQLError:
                continue  # the executor reports it
            filtered = filtering(arguments)
            below = self.connection(connection_type, field_details)
            found.append(NestedList(kind, filtered, self.window(arguments), below))
        return found

    def window(self, arguments: Mapping[str, Any]) -> Window | None:
        first, after = arguments.get("first"), arguments.get("after")
        if first is None:
            first = self.default_first
        if not isinstance(first, int) or first < 0 or (self.max_first is not None and first > self.max_first):
            return None
        try:
            offset = 0 if after is None else decode_cursor(after) + 1
        except InvalidInput:
            return None
        return Window(offset=offset, first=first)


def filtering(arguments: Mapping[str, Any]) -> bool:
    """Whether a list field's arguments narrow or order it: any besides ``first`` and ``after`` given
    (an input object counts when any of its fields is)."""
    return any(_given(value) for name, value in arguments.items() if name not in WINDOW_ARGUMENTS)


def _given(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_given(item) for item in value.values())
    return value is not None


def _kind_of_nodes(connection_type: Any) -> str | None:
    """The kind of a connection's objects, ``None`` when it is not a connection of resources."""
    if not isinstance(connection_type, GraphQLObjectType) or "nodes" not in connection_type.fields:
        return None
    return KINDS_BY_TYPE.get(get_named_type(connection_type.fields["nodes"].type).name)


def selected_children(
    info: GraphQLResolveInfo[Any], *, default_first: int, max_first: int | None = None
) -> tuple[NestedList, ...]:
    """The children lists selected on the objects of the connection ``info``'s field returns."""
    fragments = {name: FragmentDetails(definition) for name, definition in info.fragments.items()}
    variables: Any = info.variable_values
    if not isinstance(variables, VariableValues):  # Strawberry hands resolvers the coerced values alone
        variables = VariableValues({}, dict(variables))
    reader = _Reader(FieldTree(info.schema, fragments, variables, info.operation), default_first, max_first)
    details = [FieldDetails(node, None) for node in info.field_nodes]
    return reader.connection(get_named_type(info.return_type), details)


def children_in(
    tree: FieldTree, connection_type: Any, details: FieldDetailsList, *, default_first: int
) -> tuple[NestedList, ...]:
    """The same, from the tree the cost rule walks (before any resolver runs)."""
    return _Reader(tree, default_first, None).connection(connection_type, details)
