"""What the server builds on: ``make_context`` takes keywords only, and the schema has the designed roots
and nullability (the export list itself: tests/test_exported_members.py)."""

from __future__ import annotations

import inspect

import strawberry

import events_gateway.graph as graph
from events_gateway.settings import Settings


def test_make_context_takes_keyword_arguments_only() -> None:
    parameters = inspect.signature(graph.make_context).parameters
    assert list(parameters) == ["client", "api_key", "settings", "request_id", "cache", "read_through"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


ORDER_PAGE = "orderBy: [ListOrder!] = null, first: Int = null, after: String = null"
OLD_TITLE = 'title: String = null @deprecated(reason: "Use `filter: {title: …}`.")'


def test_the_schema_has_the_designed_roots_and_nullability() -> None:
    schema = graph.build_schema(Settings())
    assert isinstance(schema, strawberry.Schema)
    sdl = schema.as_str()
    for line in (
        f"eventCategories(filter: ListFilter = null, {ORDER_PAGE}, {OLD_TITLE}): EventCategoryConnection!",
        "eventCategory(id: ID!): EventCategory",
        f"events(filter: EventFilter = null, {ORDER_PAGE}): EventConnection!",
        "event(id: ID!): Event",
        f"eventProperties(filter: EventPropertyFilter = null, {ORDER_PAGE}): EventPropertyConnection!",
        "eventProperty(id: ID!): EventProperty",
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!): [Node]!",
        "interface Node {\n  id: ID!\n}",
        "type Event implements Resource & Node {",
        "createEventCategory(input: CreateEventCategoryInput!): EventCategory!",
        "createEvent(input: CreateEventInput!): Event!",
        "updateEvent(id: ID!, input: UpdateEventInput!): Event!",
        "deleteEvent(id: ID!): DeletePayload!",
        "createEventProperty(input: CreateEventPropertyInput!): EventProperty!",
        "updateEventProperty(id: ID!, input: UpdateEventPropertyInput!): EventProperty!",
        "deleteEventProperty(id: ID!): DeletePayload!",
        # nested connections and back-references are nullable, so one failing branch is partial data
        # every list takes the same filter and order; the old title argument stays, deprecated
        f"events(filter: ListFilter = null, {ORDER_PAGE}, {OLD_TITLE}): EventConnection\n",
        f"properties(filter: ListFilter = null, {ORDER_PAGE}, {OLD_TITLE}): EventPropertyConnection\n",
        "category: EventCategory\n",
        "event: Event\n",
        "owners: [ID!]!",
        "createdAt: DateTime",
        "isRequired: Boolean",
        "type: PropertyType\n",
        "rawType: String\n",
        "enumValues: [String!]\n",
    ):
        assert line in sdl, line
