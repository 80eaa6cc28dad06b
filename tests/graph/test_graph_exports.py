"""What the server builds on: ``make_context`` takes keywords only, and the schema has the designed roots
and nullability (the export list itself: tests/test_exported_members.py)."""

from __future__ import annotations

import inspect

import strawberry

import events_gateway.graph as graph
from events_gateway.settings import Settings


def test_make_context_takes_keyword_arguments_only() -> None:
    parameters = inspect.signature(graph.make_context).parameters
    assert list(parameters) == ["client", "api_key", "settings", "request_id"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


def test_the_schema_has_the_designed_roots_and_nullability() -> None:
    schema = graph.build_schema(Settings())
    assert isinstance(schema, strawberry.Schema)
    sdl = schema.as_str()
    for line in (
        "eventCategories(title: String = null, first: Int = null, after: String = null): "
        "EventCategoryConnection!",
        "eventCategory(id: ID!): EventCategory",
        "events(filter: EventFilter = null, first: Int = null, after: String = null): EventConnection!",
        "event(id: ID!): Event",
        "eventProperties(filter: EventPropertyFilter = null, first: Int = null, after: String = null): "
        "EventPropertyConnection!",
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
        "events(title: String = null, first: Int = null, after: String = null): EventConnection\n",
        "properties(title: String = null, first: Int = null, after: String = null): "
        "EventPropertyConnection\n",
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
