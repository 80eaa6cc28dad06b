"""Predict how many upstream calls a GraphQL operation will make, before any resolver runs.

The budget is counted in upstream calls, not in abstract points, because calls are what the gateway pays
for: the upstream's rate limits, its latency and its 10,000-result catalog cap. The prediction follows the
gateway's batching plan (one batched fetch per level of the tree, docs/architecture.md) and is a worst
case: every list is assumed full, so ``first`` items per parent at every level.

Fields are recognised by shape, not by name, so that a field added to the schema is costed without a table:

- a field with a ``first`` argument is a paginated list (a root list on ``Query``, else a nested list); a
  root list whose ``filter`` or ``orderBy`` a per-parent route cannot take is read whole under
  ``per-parent`` batching (a filter narrows what a list reads, so it never adds to the rest);
- a ``Query`` field returning an object with an ``id`` field is a lookup by id, of as many ids as its
  ``ids`` list argument holds (``nodes``), else of one;
- a field of such an object returning another such object is a back-reference (``Event.category``);
- a ``Mutation`` field costs one call plus what its selection predicts;
- anything else (``edges``, ``node``, ``nodes``, ``pageInfo``, scalars, introspection) costs nothing.

The planner's reads ahead (``planner.py``) are counted too: below an unfiltered root list read from its
start, each level of unfiltered children it may read by type alone costs one call more (its page 1,
asked for before the parents show whether they are a complete set). When they are, the type-wide read
replaces the level's batched one, whose worst case is already counted; when they are not, that page is
the one call the planner spent in vain.

Example::

    model = CostModel.from_settings(settings)
    calls = predict_cost(schema, parse("{ eventCategories { nodes { id } } }"), model)  # 2
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationType,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.collect_fields import FieldDetailsList, FragmentDetails, collect_fields
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from ..settings import Batching, Settings
from .list_inputs import reads_whole_list
from .planner import depths_of
from .selection import FieldTree, children_in, filtering

__all__ = ["MAX_REPORTED_COST", "CostModel", "predict_cost"]

#: Figures saturate here (2**53 - 1, the largest integer a JavaScript client reads exactly), so that a
#: document nesting many full lists still gets a number it can print rather than an overflow.
MAX_REPORTED_COST = 9_007_199_254_740_991


@dataclass(frozen=True, slots=True)
class CostModel:
    """The parts of the gateway's batching plan that decide how many calls a level takes.

    Attributes:
        page_size: results per upstream page (``Settings.page_size_hint``).
        catalog_cap: results List Resources serves for one filter; more parents go to further chunks.
        default_first: the page a connection returns when ``first`` is absent.
        batching: ``catalog`` (one batched fetch per level) or ``per-parent`` (one list per parent).
        plan_ahead: the planner reads levels ahead (``Settings.plan_ahead``, with ``catalog`` batching).
    """

    page_size: int
    catalog_cap: int
    default_first: int
    batching: Batching = "catalog"
    plan_ahead: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> CostModel:
        return cls(
            page_size=settings.page_size_hint,
            catalog_cap=settings.catalog_cap,
            default_first=settings.default_first,
            batching=settings.batching,
            plan_ahead=settings.plan_ahead and settings.batching == "catalog",
        )

    def pages(self, items: int) -> int:
        """Calls to read ``items`` results: at least one, since an empty answer is still a call."""
        return max(1, -(-items // self.page_size))

    def root_list(self, first: int, *, after: bool, whole: bool = False) -> int:
        """A top-level list; a window opened by ``after`` may straddle one more page. ``whole``: a
        per-parent route cannot filter or order it, so it is read whole (assumed at most ``catalog_cap``
        items, as much as the catalog would serve of it) and cut here."""
        if whole and self.batching == "per-parent":
            return self.pages(self.catalog_cap)
        return self.pages(first) + (1 if after else 0)

    def nested_list(self, parents: int, first: int) -> int:
        """Up to ``first`` children for each of ``parents`` parents, fetched as one level."""
        if parents <= 0:
            return 0
        if self.batching == "per-parent":
            return parents * self.pages(first)
        per_chunk = max(1, self.catalog_cap // max(first, 1))
        full_chunks, rest = divmod(parents, per_chunk)
        calls = full_chunks * self.pages(per_chunk * first)
        if rest:
            calls += self.pages(rest * first)
        return calls

    def lookups(self, count: int) -> int:
        """``count`` lookups by id of one type at one level: one ``in`` filter, or one GET each."""
        return self.pages(count) if self.batching == "catalog" else count


def predict_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    model: CostModel,
    *,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int | None:
    """Predicted upstream calls of the operation that would run, or ``None`` when none can run.

    The document must have passed validation. ``None`` means the executor itself will refuse the request
    (no such operation, or variables that do not coerce), so no resolver runs either way.
    @skip and @include are honoured with literal and variable conditions, as the executor honours them.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
    if not isinstance(coerced, VariableValues):
        return None
    fragments = {
        definition.name.value: FragmentDetails(definition)
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    walk = _Walk(FieldTree(schema, fragments, coerced, operation), model)
    grouped = collect_fields(schema, fragments, coerced, root, operation).grouped_field_set
    return walk.selection_set(root, grouped.values(), parents=1)


class _Walk:
    """One traversal of the operation's merged field tree, the tree the executor will run."""

    def __init__(self, tree: FieldTree, model: CostModel) -> None:
        self.tree = tree
        self.model = model
        schema = tree.schema
        # A subscription's root fields are live twins of the query's (graph/live.py): costed alike.
        subscribing = tree.operation.operation is OperationType.SUBSCRIPTION
        self.query_root = schema.subscription_type if subscribing else schema.query_type
        self.mutation_root = schema.mutation_type

    def selection_set(
        self, parent_type: GraphQLObjectType, fields: Iterable[FieldDetailsList], *, parents: int
    ) -> int:
        """Cost of one object's selection; lookups and back-references batch within it."""
        total = 0
        lookups: Counter[str] = Counter()
        back_references: set[str] = set()
        for details in fields:
            cost, lookup, back_reference = self.field(parent_type, details, parents)
            total += cost
            if lookup is not None:
                lookups[lookup[0]] += lookup[1]
            if back_reference is not None:
                back_references.add(back_reference)
        total += sum(self.model.lookups(count) for count in lookups.values())
        total += len(back_references)
        return min(total, MAX_REPORTED_COST)

    def field(
        self, parent_type: GraphQLObjectType, details: FieldDetailsList, parents: int
    ) -> tuple[int, tuple[str, int] | None, str | None]:
        """(own calls plus children, (lookup group, ids looked up), back-reference group) of one
        response key."""
        node = details[0].node
        name = node.name.value
        field_def = parent_type.fields.get(name)
        if name.startswith("__") or field_def is None:
            return 0, None, None  # introspection is answered locally
        named = get_named_type(field_def.type)
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            return 0, None, None
        if parent_type is self.mutation_root:
            return 1 + self.children(field_def.type, details, parents=1), None, None
        if "first" in field_def.args:
            arguments = self.arguments(field_def, node)
            first, after = self.window(arguments)
            if parent_type is self.query_root:
                calls = self.model.root_list(first, after=after, whole=reads_whole_list(arguments))
                if self.model.plan_ahead and first > 0 and not after and not filtering(arguments):
                    calls += self.read_ahead(field_def.type, details)
                items = first
            else:
                calls = self.model.nested_list(parents, first)
                items = min(parents * first, MAX_REPORTED_COST)
            return calls + self.children(field_def.type, details, parents=items), None, None
        if _is_entity(named):
            if parent_type is self.query_root:
                ids = self.ids(field_def, node)
                return self.children(field_def.type, details, parents=ids), (named.name, ids), None
            if _is_entity(parent_type):
                return self.children(field_def.type, details, parents=parents), None, named.name
        return self.children(field_def.type, details, parents=parents), None, None

    def children(self, return_type: GraphQLOutputType, details: FieldDetailsList, *, parents: int) -> int:
        """Cost below a field; for an abstract type, the dearest of its object types."""
        named = get_named_type(return_type)
        if isinstance(named, GraphQLObjectType):
            candidates: list[GraphQLObjectType] = [named]
        elif isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            candidates = list(self.tree.schema.get_possible_types(named))
        else:
            return 0
        best = 0
        for object_type in candidates:
            fields = self.tree.subfields(object_type, details)
            best = max(best, self.selection_set(object_type, fields, parents=parents))
        return best

    def ids(self, field_def: GraphQLField, node: FieldNode) -> int:
        """How many ids a lookup asks for: the length of its ``ids`` list argument, else one."""
        if "ids" not in field_def.args:
            return 1
        ids = self.arguments(field_def, node).get("ids")
        return len(ids) if isinstance(ids, list) else 1

    def read_ahead(self, return_type: GraphQLOutputType, details: FieldDetailsList) -> int:
        """The calls the planner may add below a root list: page 1 of each level it may read ahead."""
        nested = children_in(
            self.tree, get_named_type(return_type), details, default_first=self.model.default_first
        )
        return len(depths_of(nested))

    def arguments(self, field_def: GraphQLField, node: FieldNode) -> dict[str, Any]:
        """The field's arguments as the executor will coerce them (none when they do not coerce)."""
        try:
            return get_argument_values(field_def, node, self.tree.variables)
        except GraphQLError:
            return {}

    def window(self, arguments: Mapping[str, Any]) -> tuple[int, bool]:
        """The effective ``first`` (given, else the default; never negative) and whether ``after`` is set."""
        first = arguments.get("first")
        effective = self.model.default_first if first is None else max(0, int(first))
        return effective, arguments.get("after") is not None


def _is_entity(type_: Any) -> bool:
    """An object the upstream stores under an id (event category, event, event property)."""
    return isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) and "id" in type_.fields
