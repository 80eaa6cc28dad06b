"""The ``Subscription`` root: a twin of every ``Query`` field, re-running the same document as a query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import ExecutionResult, parse, print_ast

from events_gateway.emulator import EmulatorAdmin, RunningEmulator
from events_gateway.graph import ErrorCode
from events_gateway.graph.cost import CostModel, predict_cost
from events_gateway.graph.live import (
    LiveEvent,
    LiveRequest,
    kinds_read,
    query_twin,
)
from events_gateway.graph.writes import Write, write_listener
from events_gateway.settings import Settings

from .conftest import Gateway, GatewayFor

TREE = (
    "eventCategories(first: 2) { totalCount nodes { title events(first: 3) "
    "{ nodes { title properties { nodes { title } } } } } }"
)


def test_every_query_field_has_a_twin_with_its_arguments_and_type(gateway: Gateway) -> None:
    schema = gateway.schema._schema
    assert schema.subscription_type is not None
    assert schema.query_type is not None
    queries, twins = schema.query_type.fields, schema.subscription_type.fields
    assert list(twins) == list(queries)
    for name, field in queries.items():
        twin = twins[name]
        assert str(twin.type) == str(field.type), name
        assert {arg: str(a.type) for arg, a in twin.args.items()} == {
            arg: str(a.type) for arg, a in field.args.items()
        }, name
        assert {arg: a.default_value for arg, a in twin.args.items()} == {
            arg: a.default_value for arg, a in field.args.items()
        }, name
        assert field.description is not None
        assert (twin.description or "").startswith(field.description), name


def test_the_query_twin_keeps_the_operation_and_only_the_fragments_it_spreads() -> None:
    document = parse(
        """
        subscription Live($n: Int) { eventCategories(first: $n) { ...Counted } }
        fragment Counted on EventCategoryConnection { totalCount nodes { ...Named } }
        fragment Named on EventCategory { title }
        fragment Unused on Event { title }
        """
    )
    operation = document.definitions[0]
    fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    twin = print_ast(query_twin(operation, fragments))  # type: ignore[arg-type]
    assert twin.startswith("query Live($n: Int) {")
    assert "fragment Counted" in twin
    assert "fragment Named" in twin
    assert "Unused" not in twin


@pytest.mark.parametrize(
    ("selection", "kinds"),
    [
        ("eventCategories { totalCount }", {"category"}),
        ("eventCategories { nodes { events { totalCount } } }", {"category", "event"}),
        (TREE, {"category", "event", "event_property"}),
        ('event(id: "x") { title category { title } }', {"event", "category"}),
        ('eventProperty(id: "x") { title }', {"event_property"}),
        ("__typename", set()),
    ],
)
def test_a_document_reads_the_kinds_its_fields_return(
    gateway: Gateway, selection: str, kinds: set[str]
) -> None:
    assert kinds_read(gateway.schema._schema, parse(f"query {{ {selection} }}")) == kinds


def test_a_twin_costs_what_its_query_costs(gateway: Gateway) -> None:
    model = CostModel.from_settings(Settings())
    schema = gateway.schema._schema
    as_query = predict_cost(schema, parse(f"query {{ {TREE} }}"), model)
    as_subscription = predict_cost(schema, parse(f"subscription {{ {TREE} }}"), model)
    assert as_query is not None
    assert as_query > 1
    assert as_subscription == as_query


async def test_a_subscription_run_as_a_query_says_where_to_subscribe_and_calls_nothing(
    emulator: RunningEmulator, emulator_admin: EmulatorAdmin, gateway: Gateway
) -> None:
    await emulator_admin.reset()
    result = await gateway.run(f"subscription {{ {TREE} }}")
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": ErrorCode.LIVE_UNAVAILABLE}
    assert (await emulator_admin.stats())["total"] == 0


class Recorder:
    """A live source that records what it is asked and answers with given results."""

    def __init__(self, *results: ExecutionResult) -> None:
        self.requests: list[LiveRequest] = []
        self.results = results

    def watch(self, request: LiveRequest) -> AsyncIterator[LiveEvent]:
        self.requests.append(request)

        async def events() -> AsyncIterator[LiveEvent]:
            for result in self.results:
                yield LiveEvent(result)

        return events()


async def test_each_live_result_is_the_subscription_event_as_it_is(gateway: Gateway) -> None:
    answers = (
        ExecutionResult(data={"events": {"totalCount": 1}}),
        ExecutionResult(data={"events": None}, errors=None),
    )
    source = Recorder(*answers)
    stream = await gateway.schema.subscribe(
        "subscription Live($f: EventFilter, $n: Int) { events(filter: $f, first: $n) { totalCount } }",
        variable_values={"f": {"title": "Signup"}, "n": 5, "undeclared": 1},
        root_value=source,
        context_value=None,
    )
    results = [result async for result in stream]
    assert [result.data for result in results] == [answer.data for answer in answers]
    [request] = source.requests
    # The variables as the client sent them (no defaults filled in, nothing undeclared).
    assert request.variables == {"f": {"title": "Signup"}, "n": 5}
    assert request.operation_name == "Live"
    assert request.document.startswith("query Live(")
    assert request.kinds == frozenset({"event"})


@pytest.mark.parametrize(
    ("write", "touched"),
    [
        (Write("created", "event", "e", "c"), {"event", "category"}),
        (Write("updated", "event", "e", "c"), {"event"}),
        (Write("deleted", "event", "e"), {"event", "category", "event_property"}),
        (Write("created", "category", "c"), {"category"}),
        (Write("deleted", "event_property", "p"), {"event_property", "event"}),
    ],
)
def test_a_write_touches_its_kind_its_parents_count_and_what_a_delete_removes(
    write: Write, touched: set[str]
) -> None:
    assert write.touches() == touched


async def test_mutations_report_what_they_wrote(emulator: RunningEmulator, gateway_for: GatewayFor) -> None:
    gateway = gateway_for(emulator)
    data: dict[str, Any] = await gateway.data("{ eventCategories(first: 1) { nodes { id } } }")
    category = data["eventCategories"]["nodes"][0]["id"]
    heard: list[Write] = []
    with write_listener(heard.append):
        created = await gateway.data(
            'mutation($c: ID!) { createEvent(input: {categoryId: $c, title: "Heard"}) { id } }',
            {"c": category},
        )
        event = created["createEvent"]["id"]
        await gateway.data(
            'mutation($e: ID!) { updateEvent(id: $e, input: {title: "Again"}) { id } }', {"e": event}
        )
        await gateway.data("mutation($e: ID!) { deleteEvent(id: $e) { deleted } }", {"e": event})
    assert heard == [
        Write("created", "event", event, category),
        Write("updated", "event", event, category),
        Write("deleted", "event", event),
    ]
    # Nobody listening: nothing is reported, and nothing fails.
    await gateway.data(
        'mutation($c: ID!) { createEvent(input: {categoryId: $c, title: "Unheard"}) { id } }', {"c": category}
    )
    assert len(heard) == 3
