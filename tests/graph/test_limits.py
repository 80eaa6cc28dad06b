"""Query limits: each one refuses just above its threshold, passes at it, reports exact figures, and a
refused document reaches no resolver (so no upstream call).

Most tests run a small schema with the gateway's names whose resolvers record every call; the last ones
run the real ``build_schema`` against the emulator and read its call counters.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import get_introspection_query, parse
from strawberry.types import Info

from events_gateway.emulator import EmulatorAdmin, RunningEmulator
from events_gateway.graph import ErrorCode, build_schema
from events_gateway.graph.cost import MAX_REPORTED_COST, CostModel, predict_cost
from events_gateway.graph.limits import (
    QueryLimits,
    count_tokens,
    limit_extensions,
    measure_shape,
)
from events_gateway.server import DEMO_QUERY
from events_gateway.settings import (
    DEFAULT_MAX_ALIASES,
    DEFAULT_MAX_COST,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_TOKENS,
    Batching,
    Settings,
)

from .conftest import GatewayFor

#: The nested demo query of the README, word for word.
README_QUERY = (
    "{ eventCategories { nodes { id title events { nodes { id title "
    "properties { nodes { id title type } } } } } } }"
)
#: Page 1 of a level read ahead by type alone, asked for before its parents show whether they are all
#: of their kind: one call more per level, whatever they show (docs/limits.md).
AHEAD = 1
#: 2 pages of 100 categories, 10,000 events in 200 pages, 1,000,000 properties in 100 chunks of 200 pages.
README_COST_LEVEL_BY_LEVEL = 2 + 200 + 20_000
#: ... and events and properties read ahead.
README_COST = README_COST_LEVEL_BY_LEVEL + 2 * AHEAD
#: The query GraphiQL opens with (README): 10 categories, 100 events in 2 pages, 2,000 properties in 40.
GRAPHIQL_DEMO_QUERY = DEMO_QUERY
GRAPHIQL_DEMO_COST = 1 + 2 + 40 + 2 * AHEAD

# GraphiQL sends graphql-js's introspection query; graphql-core's with every option on is a superset of it.
INTROSPECTION_QUERY = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
    one_of=True,
)


# --- a small schema with the gateway's names; every resolver records that it ran ---------------------


def record(info: Info[Any, None], what: str) -> None:
    info.context["calls"].append(what)


@strawberry.type
class PageInfo:
    has_next_page: bool = False
    end_cursor: str | None = None


@strawberry.type
class EventProperty:
    id: strawberry.ID
    title: str
    type: str = "string"
    is_required: bool = False

    @strawberry.field
    def event(self, info: Info[Any, None]) -> Event | None:
        record(info, "EventProperty.event")
        return Event(id=strawberry.ID("e1"), title="signed up")


@strawberry.type
class EventPropertyEdge:
    cursor: str
    node: EventProperty


@strawberry.type
class EventPropertyConnection:
    edges: list[EventPropertyEdge]
    nodes: list[EventProperty]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Event:
    id: strawberry.ID
    title: str

    @strawberry.field
    def category(self, info: Info[Any, None]) -> EventCategory | None:
        record(info, "Event.category")
        return EventCategory(id=strawberry.ID("c1"), title="accounts")

    @strawberry.field
    def properties(
        self,
        info: Info[Any, None],
        title: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> EventPropertyConnection:
        record(info, "Event.properties")
        node = EventProperty(id=strawberry.ID("p1"), title="plan")
        return EventPropertyConnection(
            edges=[EventPropertyEdge(cursor="p1", node=node)],
            nodes=[node],
            page_info=PageInfo(),
            total_count=1,
        )


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    nodes: list[Event]
    page_info: PageInfo
    total_count: int


def event_connection() -> EventConnection:
    node = Event(id=strawberry.ID("e1"), title="signed up")
    return EventConnection(
        edges=[EventEdge(cursor="e1", node=node)], nodes=[node], page_info=PageInfo(), total_count=1
    )


@strawberry.type
class EventCategory:
    id: strawberry.ID
    title: str

    @strawberry.field
    def events(
        self,
        info: Info[Any, None],
        title: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> EventConnection:
        record(info, "EventCategory.events")
        return event_connection()


@strawberry.type
class EventCategoryEdge:
    cursor: str
    node: EventCategory


@strawberry.type
class EventCategoryConnection:
    edges: list[EventCategoryEdge]
    nodes: list[EventCategory]
    page_info: PageInfo
    total_count: int


@strawberry.input
class EventFilter:
    title: str | None = None


@strawberry.type
class Query:
    @strawberry.field
    def event_categories(
        self,
        info: Info[Any, None],
        title: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> EventCategoryConnection:
        record(info, "Query.eventCategories")
        node = EventCategory(id=strawberry.ID("c1"), title="accounts")
        return EventCategoryConnection(
            edges=[EventCategoryEdge(cursor="c1", node=node)],
            nodes=[node],
            page_info=PageInfo(),
            total_count=1,
        )

    @strawberry.field
    def event_category(self, info: Info[Any, None], id: strawberry.ID) -> EventCategory | None:
        record(info, "Query.eventCategory")
        return EventCategory(id=id, title="accounts")

    @strawberry.field
    def events(
        self,
        info: Info[Any, None],
        filter: EventFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> EventConnection:
        record(info, "Query.events")
        return event_connection()

    @strawberry.field
    def event(self, info: Info[Any, None], id: strawberry.ID) -> Event | None:
        record(info, "Query.event")
        return Event(id=id, title="signed up")


@strawberry.input
class CreateEventCategoryInput:
    title: str


@strawberry.type
class DeletePayload:
    id: strawberry.ID
    deleted: bool = True


@strawberry.type
class Mutation:
    @strawberry.mutation
    def create_event_category(self, info: Info[Any, None], input: CreateEventCategoryInput) -> EventCategory:
        record(info, "Mutation.createEventCategory")
        return EventCategory(id=strawberry.ID("c2"), title=input.title)

    @strawberry.mutation
    def delete_event(self, info: Info[Any, None], id: strawberry.ID) -> DeletePayload:
        record(info, "Mutation.deleteEvent")
        return DeletePayload(id=id)


def make_schema(**changes: Any) -> strawberry.Schema:
    settings = Settings().with_(**changes)
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=limit_extensions(settings))


async def run(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None
) -> tuple[Any, list[str]]:
    calls: list[str] = []
    result = await schema.execute(query, variable_values=variables, context_value={"calls": calls})
    return result, calls


async def assert_passes(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None
) -> None:
    result, calls = await run(schema, query, variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    assert calls, "the document should have run its resolvers"


async def assert_refused(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The refusal's ``extensions``, after checking it came with no data and no resolver ran."""
    result, calls = await run(schema, query, variables)
    assert result.data is None
    assert calls == []
    assert result.errors is not None
    assert len(result.errors) == 1
    extensions: dict[str, Any] = result.errors[0].extensions
    assert extensions["code"] == ErrorCode.QUERY_TOO_COMPLEX
    return extensions


def cost_of(query: str, variables: dict[str, Any] | None = None, **changes: Any) -> int | None:
    schema = make_schema(**changes)
    model = CostModel.from_settings(Settings().with_(**changes))
    return predict_cost(schema._schema, parse(query), model, variables=variables)


# --- defaults ------------------------------------------------------------------------------------------


async def test_readme_query_passes_with_defaults() -> None:
    assert cost_of(README_QUERY) == README_COST <= DEFAULT_MAX_COST
    await assert_passes(make_schema(), README_QUERY)


async def test_graphiql_demo_query_passes_with_defaults() -> None:
    assert cost_of(GRAPHIQL_DEMO_QUERY) == GRAPHIQL_DEMO_COST
    await assert_passes(make_schema(), GRAPHIQL_DEMO_QUERY)


async def test_introspection_passes_with_defaults() -> None:
    shape = measure_shape(parse(INTROSPECTION_QUERY))
    assert shape.depth == 15 <= DEFAULT_MAX_DEPTH
    assert shape.aliases == 0
    assert count_tokens(INTROSPECTION_QUERY) <= DEFAULT_MAX_TOKENS
    assert len(INTROSPECTION_QUERY.encode()) <= DEFAULT_MAX_DOCUMENT_BYTES
    result, _ = await run(make_schema(), INTROSPECTION_QUERY)
    assert result.errors is None
    assert result.data["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_costs_no_calls() -> None:
    assert cost_of(INTROSPECTION_QUERY) == 0
    result, _ = await run(make_schema(max_cost=1), INTROSPECTION_QUERY)
    assert result.errors is None


def test_defaults_leave_room() -> None:
    assert (DEFAULT_MAX_DEPTH, DEFAULT_MAX_ALIASES, DEFAULT_MAX_TOKENS) == (20, 50, 2_000)
    assert (DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_COST) == (32_768, 25_000)


# --- bytes and tokens ---------------------------------------------------------------------------------


async def test_bytes_limit_counts_utf8_bytes() -> None:
    query = '{ eventCategories(title: "café") { nodes { id } } }'
    size = len(query.encode())
    assert size == len(query) + 1  # é takes two bytes
    await assert_passes(make_schema(max_document_bytes=size), query)
    extensions = await assert_refused(make_schema(max_document_bytes=size - 1), query)
    assert extensions == {
        "code": ErrorCode.QUERY_TOO_COMPLEX,
        "limit": "bytes",
        "bytes": size,
        "maxBytes": size - 1,
    }


async def test_tokens_limit() -> None:
    query = "{ eventCategories { nodes { id } } }"
    assert count_tokens(query) == 9
    await assert_passes(make_schema(max_tokens=9), query)
    extensions = await assert_refused(make_schema(max_tokens=8), query)
    assert extensions == {"code": ErrorCode.QUERY_TOO_COMPLEX, "limit": "tokens", "tokens": 9, "maxTokens": 8}


async def test_tokens_include_comments_and_values() -> None:
    query = '# a comment\n{ eventCategories(first: 2, title: "x") { nodes { id } } }'
    # the comment, the 9 of the bare query, and ( first : 2 title : "x" ); commas are not tokens
    assert count_tokens(query) == 1 + 9 + 8
    await assert_passes(make_schema(max_tokens=18), query)
    extensions = await assert_refused(make_schema(max_tokens=17), query)
    assert extensions["tokens"] == 18


async def test_syntax_error_is_left_to_the_parser() -> None:
    result, calls = await run(make_schema(max_tokens=2), "{ eventCategories { nodes { id ? } } }")
    assert calls == []
    assert result.errors[0].message.startswith("Syntax Error")


# --- depth --------------------------------------------------------------------------------------------


async def test_depth_limit() -> None:
    assert measure_shape(parse(README_QUERY)).depth == 7
    await assert_passes(make_schema(max_depth=7), README_QUERY)
    extensions = await assert_refused(make_schema(max_depth=6), README_QUERY)
    assert extensions == {"code": ErrorCode.QUERY_TOO_COMPLEX, "limit": "depth", "depth": 7, "maxDepth": 6}


async def test_depth_counts_through_fragments_and_inline_fragments() -> None:
    query = """
        { eventCategories { ...Category } }
        fragment Category on EventCategoryConnection {
          nodes { ... on EventCategory { events { ...Events } } }
        }
        fragment Events on EventConnection { edges { node { category { id } } } }
    """
    # eventCategories, nodes, events, edges, node, category, id
    assert measure_shape(parse(query)).depth == 7
    await assert_passes(make_schema(max_depth=7), query)
    assert (await assert_refused(make_schema(max_depth=6), query))["depth"] == 7


def test_depth_of_a_long_fragment_chain_does_not_overflow() -> None:
    links = 3_000
    fragments = "\n".join(
        f"fragment F{i} on Event {{ category {{ events {{ nodes {{ ...F{i + 1} }} }} }} }}"
        for i in range(links)
    )
    query = f"{{ event(id: 1) {{ ...F0 }} }}\n{fragments}\nfragment F{links} on Event {{ id }}"
    assert measure_shape(parse(query)).depth == 1 + 3 * links + 1


# --- aliases ------------------------------------------------------------------------------------------


async def test_aliases_count_every_spread_of_a_fragment() -> None:
    query = """
        { eventCategories { nodes { ...Two ...Two } } first: eventCategories { nodes { ...Two } } }
        fragment Two on EventCategory { a: id b: title }
    """
    # 3 spreads of 2 aliases, plus the aliased root field
    assert measure_shape(parse(query)).aliases == 7
    await assert_passes(make_schema(max_aliases=7), query)
    extensions = await assert_refused(make_schema(max_aliases=6), query)
    assert extensions == {
        "code": ErrorCode.QUERY_TOO_COMPLEX,
        "limit": "aliases",
        "aliases": 7,
        "maxAliases": 6,
    }


async def test_alias_bomb_is_measured_exactly_and_refused_before_validation() -> None:
    levels = 60
    fragments = "\n".join(
        f"fragment F{i} on Event {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
    )
    query = f"{{ event(id: 1) {{ ...F{levels} }} }}\nfragment F0 on Event {{ a: id b: title }}\n{fragments}"
    extensions = await assert_refused(make_schema(), query)
    assert extensions["aliases"] == 2 ** (levels + 1)


def test_aliases_in_unused_and_cyclic_fragments_do_not_break_measuring() -> None:
    query = """
        { event(id: 1) { ...A } }
        fragment A on Event { a: id ...B }
        fragment B on Event { b: title ...A }
        fragment Unused on Event { c: id }
    """
    shape = measure_shape(parse(query))
    assert shape.aliases == 3  # A and B once each (the cycle is cut), Unused once


async def test_cyclic_fragments_get_the_validation_error() -> None:
    query = "{ event(id: 1) { ...A } } fragment A on Event { category { events { nodes { ...A } } } }"
    result, calls = await run(make_schema(), query)
    assert calls == []
    assert result.errors[0].message == "Cannot spread fragment 'A' within itself."


# --- introspection depth --------------------------------------------------------------------------------


async def test_nested_introspection_lists_are_refused() -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    result, calls = await run(make_schema(), query)
    assert result.data is None
    assert calls == []
    assert result.errors[0].extensions == {"code": ErrorCode.QUERY_TOO_COMPLEX, "limit": "introspectionDepth"}
    assert result.errors[0].locations is not None


# --- cost -----------------------------------------------------------------------------------------------


async def test_cost_limit_passes_at_and_refuses_above() -> None:
    await assert_passes(make_schema(max_cost=README_COST), README_QUERY)
    extensions = await assert_refused(make_schema(max_cost=README_COST - 1), README_QUERY)
    assert extensions == {
        "code": ErrorCode.QUERY_TOO_COMPLEX,
        "limit": "cost",
        "cost": README_COST,
        "maxCost": README_COST - 1,
    }


async def test_cost_reads_first_from_variables() -> None:
    query = "query($n: Int) { eventCategories(first: $n) { nodes { events(first: $n) { nodes { id } } } } }"
    # 60 categories in 2 pages; 3,600 events in 72 pages, read ahead
    assert cost_of(query, {"n": 60}) == 74 + AHEAD
    await assert_passes(make_schema(max_cost=75), query, {"n": 60})
    assert (await assert_refused(make_schema(max_cost=74), query, {"n": 60}))["cost"] == 75
    # absent: the default first (100)
    assert cost_of(query, {}) == 2 + 200 + AHEAD
    assert cost_of(query, {"n": 0}) == 1  # no category, so nothing to read ahead


async def test_cost_honours_skip_and_include() -> None:
    query = """
        query($deep: Boolean!) {
          eventCategories(first: 10) {
            nodes { id events(first: 100) @include(if: $deep) { nodes { id } } }
            edges @skip(if: true) { node { events(first: 100) { nodes { id } } } }
          }
        }
    """
    assert cost_of(query, {"deep": False}) == 1
    assert cost_of(query, {"deep": True}) == 1 + 20 + AHEAD
    await assert_passes(make_schema(max_cost=1), query, {"deep": False})
    assert (await assert_refused(make_schema(max_cost=1), query, {"deep": True}))["cost"] == 22


def test_cost_counts_through_fragments_and_inline_fragments() -> None:
    query = """
        query { ...Root }
        fragment Root on Query { eventCategories(first: 10) { nodes { ... on EventCategory { ...Events } } } }
        fragment Events on EventCategory { events(first: 5) { nodes { id } } }
    """
    assert cost_of(query) == 1 + 1 + AHEAD


def test_cost_merges_a_field_selected_twice_as_the_executor_does() -> None:
    query = """
        { events(first: 10) { nodes { id } } events(first: 10) { nodes { title } } ...F ...F }
        fragment F on Query { events(first: 10) { totalCount } }
    """
    assert cost_of(query) == 1


def test_aliased_lists_cost_each() -> None:
    assert cost_of("{ a: events(first: 10) { totalCount } b: events(first: 10) { totalCount } }") == 2


def test_root_list_after_a_cursor_may_straddle_a_page() -> None:
    assert cost_of('{ events(first: 50, after: "x") { nodes { id } } }') == 2
    assert cost_of("{ events(first: 50) { nodes { id } } }") == 1


def test_nested_lists_chunk_at_the_catalog_cap() -> None:
    query = "{ eventCategories(first: 40) { nodes { events(first: 30) { nodes { id } } } } }"
    # 1,200 events: 24 pages in one chunk; with a cap of 1,000, 33 parents (990 → 20 pages) + 7 (210 → 5)
    assert cost_of(query) == 1 + 24 + AHEAD
    assert cost_of(query, catalog_cap=1_000) == 1 + 25 + AHEAD


def test_per_parent_batching_costs_one_list_per_parent() -> None:
    query = "{ eventCategories(first: 40) { nodes { events(first: 30) { nodes { id } } } } }"
    assert cost_of(query, batching="per-parent") == 1 + 40
    assert cost_of(README_QUERY, batching="per-parent") == README_COST_LEVEL_BY_LEVEL  # nothing read ahead


def test_lookups_by_id_batch_per_type() -> None:
    query = '{ a: event(id: "1") { id } b: event(id: "2") { id } c: eventCategory(id: "3") { id } }'
    assert cost_of(query) == 2
    assert cost_of(query, batching="per-parent") == 3


def test_back_references_cost_one_batched_call_per_level() -> None:
    query = "{ events(first: 100) { nodes { category { id } again: category { title } } } }"
    assert cost_of(query) == 2 + 1
    nested = "{ eventCategories(first: 2) { nodes { events(first: 2) { nodes { category { id } } } } } }"
    assert cost_of(nested) == 1 + 1 + AHEAD + 1


def test_levels_read_ahead_cost_their_page_1() -> None:
    """Only below an unfiltered root list read from its start, one call per unfiltered level in a row."""
    tree = "{ eventCategories%s { nodes { events%s { nodes { properties%s { nodes { id } } } } } } }"
    level_by_level = cost_of(tree % ("", "", ""), plan_ahead=False)
    assert level_by_level == README_COST_LEVEL_BY_LEVEL
    assert cost_of(tree % ("", "", "")) == level_by_level + 2
    assert cost_of(tree % ("", '(title: "a")', "")) == level_by_level  # a filtered level, nothing below
    assert cost_of(tree % ("", "", '(title: "a")')) == level_by_level + 1
    assert cost_of(tree % ('(title: "a")', "", "")) == level_by_level  # not every category
    assert cost_of(tree % ('(after: "b2Zmc2V0OjA=")', "", "")) == level_by_level + 1  # straddles a page
    assert cost_of(tree % ("", '(after: "b2Zmc2V0OjA=")', "")) == level_by_level + 1
    assert cost_of(tree % ("", "", ""), batching="per-parent") == README_COST_LEVEL_BY_LEVEL
    events = "{ events(filter: {}) { nodes { properties { nodes { id } } } } }"
    unplanned = cost_of(events, plan_ahead=False)
    assert unplanned is not None
    assert cost_of(events) == unplanned + 1
    assert cost_of('{ events(filter: {title: "a"}) { nodes { properties { nodes { id } } } } }') == 2 + 200


def test_nested_list_under_a_lookup_has_one_parent() -> None:
    assert cost_of('{ event(id: "1") { properties(first: 120) { nodes { id event { id } } } } }') == 1 + 3 + 1


def test_mutations_cost_one_each_plus_their_selection() -> None:
    query = """
        mutation {
          createEventCategory(input: {title: "x"}) { id events(first: 10) { nodes { id } } }
          deleteEvent(id: "1") { id deleted }
        }
    """
    assert cost_of(query) == (1 + 1) + 1


async def test_a_refused_mutation_runs_nothing() -> None:
    query = 'mutation { a: createEventCategory(input: {title: "x"}) { id } b: deleteEvent(id: "1") { id } }'
    await assert_passes(make_schema(max_cost=2), query)
    assert (await assert_refused(make_schema(max_cost=1), query))["cost"] == 2


def test_cost_saturates_instead_of_growing_without_bound() -> None:
    selection = "id"
    for _ in range(8):
        selection = f"events(first: 1000) {{ nodes {{ category {{ {selection} }} }} }}"
    query = f"{{ eventCategories(first: 1000) {{ nodes {{ {selection} }} }} }}"
    assert cost_of(query) == MAX_REPORTED_COST


def test_cost_is_none_when_the_executor_would_refuse_anyway() -> None:
    query = "query($n: Int!) { events(first: $n) { totalCount } }"
    assert cost_of(query, {}) is None
    assert cost_of(query, {"n": "many"}) is None
    assert cost_of(query, {"n": 10}) == 1
    model = CostModel.from_settings(Settings())
    assert predict_cost(make_schema()._schema, parse(query), model, operation_name="Other") is None


async def test_bad_variables_get_the_executors_error_and_no_call() -> None:
    result, calls = await run(
        make_schema(max_cost=1), "query($n: Int!) { events(first: $n) { totalCount } }", {}
    )
    assert calls == []
    assert "$n" in result.errors[0].message


# --- settings ---------------------------------------------------------------------------------------------


def test_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "EVENTS_GATEWAY_MAX_DEPTH": "3",
            "EVENTS_GATEWAY_MAX_ALIASES": "4",
            "EVENTS_GATEWAY_MAX_TOKENS": "5",
            "EVENTS_GATEWAY_MAX_DOCUMENT_BYTES": "6",
            "EVENTS_GATEWAY_MAX_COST": "7",
            "EVENTS_GATEWAY_PAGE_SIZE_HINT": "25",
        }
    )
    limits = QueryLimits.from_settings(settings)
    assert (limits.max_depth, limits.max_aliases, limits.max_tokens, limits.max_bytes, limits.max_cost) == (
        3,
        4,
        5,
        6,
        7,
    )
    assert limits.cost_model.page_size == 25


async def test_each_request_gets_its_own_extension() -> None:
    schema = make_schema(max_depth=2)
    first, second = schema.get_extensions(), schema.get_extensions()
    assert first[0] is not second[0]


# --- the real schema, over a real client, against the emulator ------------------------------------------


async def test_real_schema_refuses_before_any_upstream_call(
    emulator: RunningEmulator, emulator_admin: EmulatorAdmin, gateway_for: GatewayFor
) -> None:
    gateway = gateway_for(emulator, max_cost=README_COST - 1, max_depth=6)
    for query, limit in ((README_QUERY, "depth"), (GRAPHIQL_DEMO_QUERY, "depth")):
        await emulator_admin.reset()
        result = await gateway.run(query)
        assert result.data is None
        assert result.errors is not None
        extensions = result.errors[0].extensions or {}
        assert extensions["code"] == ErrorCode.QUERY_TOO_COMPLEX
        assert extensions["limit"] == limit
        assert gateway.contexts[-1].calls == []
        assert (await emulator_admin.stats())["total"] == 0

    gateway = gateway_for(emulator, max_cost=README_COST - 1)
    await emulator_admin.reset()
    result = await gateway.run(README_QUERY)
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].extensions == {
        "code": ErrorCode.QUERY_TOO_COMPLEX,
        "limit": "cost",
        "cost": README_COST,
        "maxCost": README_COST - 1,
    }
    assert gateway.contexts[-1].calls == []
    assert (await emulator_admin.stats())["total"] == 0


async def test_real_schema_runs_the_readme_queries_within_their_prediction(
    emulator: RunningEmulator, emulator_admin: EmulatorAdmin, gateway_for: GatewayFor
) -> None:
    gateway = gateway_for(emulator)
    for query, predicted in ((README_QUERY, README_COST), (GRAPHIQL_DEMO_QUERY, GRAPHIQL_DEMO_COST)):
        await emulator_admin.reset()
        data = await gateway.data(query)
        assert data["eventCategories"]["nodes"]
        made = (await emulator_admin.stats())["total"]
        assert 0 < made <= predicted
    result = await gateway.run(INTROSPECTION_QUERY)
    assert result.errors is None


@pytest.mark.parametrize(
    ("query", "calls"),
    [
        (README_QUERY, README_COST),
        (GRAPHIQL_DEMO_QUERY, GRAPHIQL_DEMO_COST),
        ('{ a: event(id: "1") { id } b: event(id: "2") { id } c: eventCategory(id: "3") { id } }', 2),
        ("{ events(first: 100) { nodes { category { id } again: category { title } } } }", 3),
        (
            '{ eventProperty(id: "1") { event { properties(first: 120) { edges { node { id } } } } } }',
            1 + 1 + 3,
        ),
        (
            'mutation { createEventCategory(input: {title: "x"}) { id events(first: 10) { totalCount } }'
            ' deleteEvent(id: "1") { __typename } }',
            3,
        ),
        (INTROSPECTION_QUERY, 0),
    ],
)
def test_real_schema_is_costed_like_the_sketch(query: str, calls: int) -> None:
    settings = Settings()
    schema = build_schema(settings)
    assert predict_cost(schema._schema, parse(query), CostModel.from_settings(settings)) == calls


@pytest.mark.parametrize(
    ("query", "catalog", "per_parent"),
    [
        # a filter or an order changes no prediction where the catalog takes it: a filter only narrows
        ("{ events(first: 100) { nodes { id } } }", 2, 2),
        ('{ events(first: 100, filter: {title: "a", categoryId: "1"}) { nodes { id } } }', 2, 2),
        # per-parent routes take a title alone: a list filtered or ordered otherwise is read whole
        ("{ events(first: 100, filter: {pii: true}) { nodes { id } } }", 2, 200),
        ('{ eventCategories(first: 100, filter: {titleContains: ""}) { nodes { id } } }', 2, 2),
        ("{ eventProperties(first: 10, orderBy: [{field: TITLE}]) { nodes { id } } }", 1, 200),
        (
            "{ eventCategories(first: 40) { nodes { events(first: 30, filter: {tag: 1},"
            " orderBy: [{field: UPDATED_AT, direction: DESC}]) { nodes { id } } } } }",
            1 + 24,
            1 + 40,
        ),
    ],
)
def test_filters_and_orders_are_costed_by_strategy(query: str, catalog: int, per_parent: int) -> None:
    strategies: tuple[tuple[Batching, int], ...] = (("catalog", catalog), ("per-parent", per_parent))
    for batching, calls in strategies:
        settings = Settings(batching=batching)
        schema = build_schema(settings)
        assert predict_cost(schema._schema, parse(query), CostModel.from_settings(settings)) == calls, (
            batching
        )
