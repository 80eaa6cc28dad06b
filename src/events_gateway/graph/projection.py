"""Which upstream keys a query reads, so that its list pages are decoded with those keys alone.

A resource has some forty-five keys and a query usually selects a few fields; the upstream session can
decode list pages keeping only given keys (``UpstreamSession.project``). This module names them for a
document: the keys of every field the document selects anywhere (under any type, alias, fragment or
operation) that is a field of a resource type, and the keys the gateway reads itself whatever is
selected (``GATEWAY_KEYS``). Naming too many is harmless; too few would be a wrong answer, so whatever
this module cannot vouch for reads every key (``None``):

- a field argument other than paging, lookup and the title filter: filters and orders are tested and
  sorted in memory on keys of their own;
- a resolver field of a resource type missing from ``RESOLVER_KEYS``;
- any operation but a query, and the operations of a batch (they share one store of resources).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import get_object_definition
from strawberry.types.graphql import OperationType

from ._fields import EAGER_FIELDS, upstream_keys_of
from .context import GraphContext
from .types import UPSTREAM_KEYS, Event, EventCategory, EventProperty

__all__ = ["GATEWAY_KEYS", "RESOLVER_KEYS", "ProjectPages", "keys_read"]

#: Read by the gateway itself: ids and parents (store, grouping by parent), the kind (``kinds``),
#: the default order (``lists``), counts (planner, store), the integration and type of a resource.
GATEWAY_KEYS: Final = frozenset(
    {
        "id",
        "parent",
        "parent_id",
        "title",
        "entity_type",
        "native_type",
        "created_at",
        "updated_at",
        "children_count",
        "integration",
        "type",
    }
)
#: The upstream keys each resolver field of a resource type reads of its own object (its lists are
#: found through the object's id; its parent through ``parent``).
RESOLVER_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "events": ("id",),
    "properties": ("id",),
    "category": ("parent", "parent_id"),
    "event": ("parent", "parent_id"),
}
#: Arguments that read no key beyond ``GATEWAY_KEYS``: paging, lookups by id, the title filter.
PLAIN_ARGUMENTS: Final = frozenset({"first", "after", "id", "ids", "title"})


def _field_keys() -> dict[str, frozenset[str] | None]:
    """GraphQL field name → the keys it reads, over every resource type (``None``: not known)."""
    names = NameConverter()
    table: dict[str, frozenset[str] | None] = {}
    for cls in (EventCategory, Event, EventProperty):
        for field in get_object_definition(cls, strict=True).fields:
            name = field.python_name
            keys: tuple[str, ...] | None
            if field.base_resolver is not None:
                keys = RESOLVER_KEYS.get(name)
            elif name in EAGER_FIELDS:
                keys = (name,)
            else:
                keys = upstream_keys_of(name, UPSTREAM_KEYS)
            graphql_name = names.from_field(field)
            known = table.get(graphql_name, frozenset())
            table[graphql_name] = None if keys is None or known is None else known | set(keys)
    return table


FIELD_KEYS: Final = _field_keys()


class ProjectPages(SchemaExtension):
    """Before a query runs, tell its upstream session which keys of list pages it reads."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context, document = execution.context, execution.graphql_document
        if (
            isinstance(context, GraphContext)
            and not context.batched
            and document is not None
            and execution.operation_type is OperationType.QUERY
        ):
            context.loaders.project(keys_read(document))
        yield


def keys_read(document: DocumentNode) -> frozenset[str] | None:
    """The upstream keys of resources that ``document`` reads, ``None`` when it may read any (a walk
    over its fields: a few microseconds a request, not worth a cache of its own)."""
    keys = set(GATEWAY_KEYS)
    for field in _fields(document):
        if any(argument.name.value not in PLAIN_ARGUMENTS for argument in field.arguments or ()):
            return None
        read = FIELD_KEYS.get(field.name.value, frozenset())
        if read is None:
            return None
        keys.update(read)
    return frozenset(keys)


def _fields(document: DocumentNode) -> Iterator[FieldNode]:
    """Every field node of every operation and fragment of ``document``."""
    pending: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, ExecutableDefinitionNode)
    ]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
