"""Query limits: refuse a document that is too big, too deep or too dear before any resolver runs.

Why here and not in resolvers: a limit that trips halfway through execution has already spent upstream
calls and the caller's rate limit. So every check runs in a Strawberry ``SchemaExtension`` hook ahead of the
step it protects:

- ``on_parse`` (before parsing): document bytes, then lexical tokens;
- ``on_validate`` (before validation, which is itself quadratic in aliases): depth, then aliases; and
  graphql-core's introspection-depth rule (one of its standard rules) reports in the same shape;
- ``on_execute`` (before the first resolver): predicted upstream calls (see ``cost.py``). The operations
  of a batched request share one budget (their context's ``predicted_calls``): each is admitted while the
  batch's total stays within it, in the order they reach execution (the batch's order).

A refused document gets ``data: null`` and one error whose ``extensions`` carry ``code:
"QUERY_TOO_COMPLEX"``, the name of the limit and the measured figure beside its maximum, e.g.
``{"code": "QUERY_TOO_COMPLEX", "limit": "cost", "cost": 412, "maxCost": 300}``.

Wiring (one line in ``build_schema``)::

    strawberry.Schema(Query, mutation=Mutation, extensions=[*limit_extensions(settings), ...])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Lexer,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    TokenKind,
)
from graphql.validation.rules.max_introspection_depth_rule import MaxIntrospectionDepthRule
from strawberry.extensions import SchemaExtension

from ..settings import Settings
from .codes import ErrorCode
from .context import GraphContext
from .cost import CostModel, predict_cost

__all__ = [
    "DocumentShape",
    "QueryLimits",
    "QueryLimitsExtension",
    "QueryTooComplex",
    "count_tokens",
    "limit_extensions",
    "measure_shape",
]

BYTES_MESSAGE = "The document is {bytes} bytes long; the limit is {maxBytes}. Send a shorter document."
TOKENS_MESSAGE = "The document has {tokens} tokens; the limit is {maxTokens}. Send a shorter document."
DEPTH_MESSAGE = "The query nests {depth} fields deep; the limit is {maxDepth}. Split it into several queries."
ALIASES_MESSAGE = (
    "The query uses {aliases} aliases (counted through every fragment spread); the limit is "
    "{maxAliases}. Use fewer aliases or split the query."
)
COST_MESSAGE = (
    "The query could make {cost} upstream calls; the limit is {maxCost}. Ask for fewer items "
    "(a smaller `first`) or fewer nested lists, or split the query."
)
BATCH_COST_MESSAGE = (
    "With this operation ({cost} upstream calls), the batch could make {batchCost}; the limit is {maxCost} "
    "for the whole batch. Send fewer operations per batch, or ask for less in each."
)
INTROSPECTION_MESSAGE = (
    "The introspection query nests fields, interfaces, possibleTypes or inputFields too deeply."
)


class QueryTooComplex(GraphQLError):
    """A document refused by a limit; ``extensions`` name the limit and carry the measured figures."""

    def __init__(self, limit: str, message: str, figures: Mapping[str, int]) -> None:
        super().__init__(
            message.format(**figures),
            extensions={"code": ErrorCode.QUERY_TOO_COMPLEX, "limit": limit, **figures},
        )


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The bounds one schema enforces, read once from ``Settings`` (which checks that each is positive).

    Attributes:
        max_depth: fields on the longest path from the operation down (``{ a { b } }`` is 2).
        max_aliases: aliased fields, a fragment's counted once for each spread of it.
        max_tokens: lexical tokens of the document (names, punctuators, values, comments).
        max_bytes: UTF-8 bytes of the document.
        max_cost: predicted upstream calls; introspection costs none.
        cost_model: how the prediction counts calls.
    """

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_bytes: int
    max_cost: int
    cost_model: CostModel

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_bytes=settings.max_document_bytes,
            max_cost=settings.max_cost,
            cost_model=CostModel.from_settings(settings),
        )


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The extensions ``build_schema`` adds so that every request is checked; one fresh one per request."""
    limits = QueryLimits.from_settings(settings)
    return [functools.partial(QueryLimitsExtension, limits)]


class QueryLimitsExtension(SchemaExtension):
    """Runs each limit in the hook before the work it protects; raising stops the request there."""

    def __init__(self, limits: QueryLimits) -> None:
        super().__init__()
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query is not None:  # checked even when a cache already holds the parsed document
            self.check_text(query)
        yield

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            self.check_shape(document)
        rules = self.execution_context.validation_rules
        if IntrospectionDepthRule not in rules:
            rules = (
                *(rule for rule in rules if rule is not MaxIntrospectionDepthRule),
                IntrospectionDepthRule,
            )
            self.execution_context.validation_rules = rules
        yield

    def on_execute(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            cost = predict_cost(
                self.execution_context.schema._schema,  # the graphql-core schema Strawberry built
                document,
                self.limits.cost_model,
                operation_name=self.execution_context.operation_name,
                variables=self.execution_context.variables,
            )
            if cost is not None:
                self.spend(cost)
        yield

    def spend(self, cost: int) -> None:
        """Admit an operation of ``cost`` predicted calls, or refuse it; a batch's share one budget."""
        context = self.execution_context.context
        spent = context.predicted_calls if isinstance(context, GraphContext) else 0
        if spent + cost > self.limits.max_cost:
            if spent:
                figures = {"cost": cost, "batchCost": spent + cost, "maxCost": self.limits.max_cost}
                raise QueryTooComplex("cost", BATCH_COST_MESSAGE, figures)
            raise QueryTooComplex("cost", COST_MESSAGE, {"cost": cost, "maxCost": self.limits.max_cost})
        if isinstance(context, GraphContext):
            context.predicted_calls = spent + cost

    def check_text(self, query: str) -> None:
        """Bytes, then tokens: both bound the parser's work, so both run before it."""
        size = len(query.encode())
        if size > self.limits.max_bytes:
            raise QueryTooComplex("bytes", BYTES_MESSAGE, {"bytes": size, "maxBytes": self.limits.max_bytes})
        if size <= self.limits.max_tokens:
            return  # every token takes at least one byte, so this document is within the limit
        try:
            tokens = count_tokens(query)
        except GraphQLError:
            return  # a syntax error: the parser reports it, with its location
        if tokens > self.limits.max_tokens:
            raise QueryTooComplex(
                "tokens", TOKENS_MESSAGE, {"tokens": tokens, "maxTokens": self.limits.max_tokens}
            )

    def check_shape(self, document: DocumentNode) -> None:
        shape = measure_shape(document)
        if shape.depth > self.limits.max_depth:
            raise QueryTooComplex(
                "depth", DEPTH_MESSAGE, {"depth": shape.depth, "maxDepth": self.limits.max_depth}
            )
        if shape.aliases > self.limits.max_aliases:
            raise QueryTooComplex(
                "aliases", ALIASES_MESSAGE, {"aliases": shape.aliases, "maxAliases": self.limits.max_aliases}
            )


class IntrospectionDepthRule(MaxIntrospectionDepthRule):
    """graphql-core's guard against ``fields { type { fields … } }`` nesting, reported in our shape."""

    def report_error(self, error: GraphQLError) -> None:
        refused = QueryTooComplex("introspectionDepth", INTROSPECTION_MESSAGE, {})
        refused.nodes = error.nodes
        refused.locations = error.locations
        super().report_error(refused)


def count_tokens(query: str) -> int:
    """Lexical tokens of ``query`` as the parser counts them (comments included, start and end not).

    Raises ``GraphQLSyntaxError`` where the text stops being GraphQL.
    """
    lexer = Lexer(Source(query))
    start = lexer.token
    while lexer.advance().kind is not TokenKind.EOF:
        pass
    count = 0
    token = start.next
    while token is not None and token.kind is not TokenKind.EOF:
        count += 1
        token = token.next
    return count


@dataclass(frozen=True, slots=True)
class DocumentShape:
    """The depth and alias count of a parsed document, read from its text (all operations, no skipping)."""

    depth: int
    aliases: int


def measure_shape(document: DocumentNode) -> DocumentShape:
    """Depth (the deepest operation) and aliases (all operations, each spread counting its fragment).

    Fragments are measured once each, in dependency order, so a fragment spread a thousand times, or a
    chain of fragments that each spread the next twice, is measured in time linear in the document. A
    fragment in a cycle or never defined counts as empty: validation refuses those documents anyway.
    Fragments no operation uses still count their own aliases once (validation reads them too).
    """
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    measured: dict[str, tuple[int, int]] = {}
    for name in _dependency_order(fragments):
        measured[name] = _measure(fragments[name].selection_set, measured)
    depth = 0
    aliases = 0
    used: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            op_depth, op_aliases = _measure(definition.selection_set, measured)
            depth = max(depth, op_depth)
            aliases += op_aliases
            used |= _reachable(definition.selection_set, fragments)
    aliases += sum(measured[name][1] for name in fragments if name not in used and name in measured)
    return DocumentShape(depth=depth, aliases=aliases)


def _measure(selection_set: SelectionSetNode, measured: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
    """(depth, aliases) of one selection set, spreads read from ``measured`` (absent: empty)."""
    depth = 0
    aliases = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below_depth, below_aliases = (
                _measure(selection.selection_set, measured) if selection.selection_set else (0, 0)
            )
            depth = max(depth, 1 + below_depth)
            aliases += below_aliases + (1 if selection.alias else 0)
        elif isinstance(selection, InlineFragmentNode):
            below_depth, below_aliases = _measure(selection.selection_set, measured)
            depth = max(depth, below_depth)
            aliases += below_aliases
        elif isinstance(selection, FragmentSpreadNode):
            spread_depth, spread_aliases = measured.get(selection.name.value, (0, 0))
            depth = max(depth, spread_depth)
            aliases += spread_aliases
    return depth, aliases


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """Names of the fragments spread anywhere inside one selection set."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def _dependency_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after the fragments it spreads (iterative, so long chains cannot overflow)."""
    edges = {
        name: [s for s in dict.fromkeys(_spreads(f.selection_set)) if s in fragments]
        for name, f in fragments.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in fragments:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        while stack:
            name, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                state[name] = 2
                order.append(name)
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(edges[child])))
            # a child on the current path closes a cycle: skipped, so it reads as empty there
    return order


def _reachable(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]) -> set[str]:
    seen: set[str] = set()
    pending = list(_spreads(selection_set))
    while pending:
        name = pending.pop()
        if name in seen or name not in fragments:
            continue
        seen.add(name)
        pending.extend(_spreads(fragments[name].selection_set))
    return seen
