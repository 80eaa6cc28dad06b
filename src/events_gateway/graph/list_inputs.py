"""The arguments every list takes, ``filter`` and ``orderBy``, and their translation into a ``ListSpec``.

Every list, top-level and nested, takes the same filter fields (``ListFilter``) and the same ``orderBy``.
The top-level ``events`` and ``eventProperties`` take a ``ListFilter`` with their scope added
(``EventFilter.categoryId``, ``EventPropertyFilter.eventId``): those input types and their scope fields
predate the shared filter, and a client's variables typed with them keep working. A nested list's scope
is its parent already.

``list_spec`` checks the values (ids are UUIDs, a date-time without an offset is UTC, an empty search
text narrows nothing) and builds the spec; what the spec means upstream and locally is ``lists.py``'s.

Example::

    spec = list_spec(ListFilter(title_contains="checkout", pii=True),
                     [ListOrder(field=ListOrderField.CREATED_AT, direction=OrderDirection.DESC)])
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry

from .errors import InvalidInput, camel_case
from .inputs import check_id
from .lists import FILTERS, LIST_KINDS, UNFILTERED, FilterField, ListSpec, OrderKey, Test

#: The deprecated ``title`` argument of the lists that had it (an exact title; ``filter`` took its place).
DeprecatedTitle = Annotated[str | None, strawberry.argument(deprecation_reason="Use `filter: {title: …}`.")]


@strawberry.enum(description="A field a list can be ordered by.")
class ListOrderField(enum.Enum):
    TITLE = "title"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.enum(description="Ascending (A to Z, oldest first) or descending.")
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="One key of a list's order; ties are broken by id, ascending.")
class ListOrder:
    field: ListOrderField
    direction: OrderDirection = OrderDirection.ASC


_TIME = "A date-time without an offset is read as UTC."


@strawberry.input(
    description="Narrows a list: every field given must hold; a field left out or `null` narrows nothing."
)
class ListFilter:
    title: str | None = strawberry.field(default=None, description="Exactly this title.")
    title_contains: str | None = strawberry.field(
        default=None, description='Title containing this text, ignoring case; `""` narrows nothing.'
    )
    description_contains: str | None = strawberry.field(
        default=None, description='Description containing this text, ignoring case; `""` narrows nothing.'
    )
    pii: bool | None = None
    verified: bool | None = None
    published: bool | None = None
    tag: strawberry.ID | None = strawberry.field(default=None, description="Has this tag id in `tags`.")
    owner: strawberry.ID | None = strawberry.field(default=None, description="Has this user id in `owners`.")
    team: strawberry.ID | None = strawberry.field(default=None, description="Has this team id in `teams`.")
    integration_id: strawberry.ID | None = strawberry.field(default=None, description="Of this integration.")
    created_after: datetime | None = strawberry.field(
        default=None, description=f"Created strictly after this instant. {_TIME}"
    )
    created_before: datetime | None = strawberry.field(
        default=None, description=f"Created strictly before this instant. {_TIME}"
    )
    updated_after: datetime | None = strawberry.field(
        default=None, description=f"Last changed strictly after this instant. {_TIME}"
    )
    updated_before: datetime | None = strawberry.field(
        default=None, description=f"Last changed strictly before this instant. {_TIME}"
    )


@strawberry.input(description="Narrows `events`: the filter of every list, and the category.")
class EventFilter(ListFilter):
    category_id: strawberry.ID | None = strawberry.field(default=None, description="Of this category.")


@strawberry.input(description="Narrows `eventProperties`: the filter of every list, and the event.")
class EventPropertyFilter(ListFilter):
    event_id: strawberry.ID | None = strawberry.field(default=None, description="Of this event.")


def list_spec(
    given: ListFilter | None, order_by: Sequence[ListOrder] | None, *, title: str | None = None
) -> ListSpec:
    """The spec of a list's arguments; ``title`` is the deprecated argument of the lists that had one.
    ``InvalidInput`` (BAD_USER_INPUT) names the field at fault."""
    if given is None and not order_by and title is None:  # the usual case, once per parent of a level
        return UNFILTERED
    values: dict[str, Any] = {}
    if given is not None:
        for filter_field in FILTERS:
            value = _checked(filter_field, getattr(given, filter_field.name))
            if value is not None:
                values[filter_field.name] = value
    if title is not None and values.setdefault("title", title) != title:
        raise InvalidInput("title", "Differs from `filter.title`; give `filter.title` alone.")
    return ListSpec(**values, order=_order(order_by or ()))


def _checked(filter_field: FilterField, value: Any) -> Any:
    """One filter value as the spec holds it."""
    if value is None:
        return None
    if filter_field.is_id:
        return check_id(value, camel_case(filter_field.name))
    if filter_field.test is Test.CONTAINS:
        return value or None
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _order(order_by: Sequence[ListOrder]) -> tuple[OrderKey, ...]:
    keys: list[OrderKey] = []
    for item in order_by:
        if any(key.field == item.field.value for key in keys):
            raise InvalidInput("orderBy", f"{item.field.name} is given more than once.")
        keys.append(OrderKey(item.field.value, item.direction is OrderDirection.DESC))
    if keys == [OrderKey("created_at")]:  # the stable order itself: the same list as no order
        return ()
    return tuple(keys)


def reads_whole_list(arguments: Mapping[str, Any]) -> bool:
    """Whether a top-level list with these arguments (as graphql-core coerces them) may have to be read
    whole under per-parent batching: an order, or a filter, that not every kind's list route takes. The
    cost rule asks; it errs towards yes."""
    if arguments.get("orderBy"):
        return True
    given = arguments.get("filter") or {}
    return any(
        given.get(camel_case(filter_field.name)) not in (None, "")
        for filter_field in FILTERS
        if filter_field.routes != LIST_KINDS
    )
