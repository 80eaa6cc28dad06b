"""A faster executor for large trees: plain fields are completed in one loop, not field by field.

A whole workspace's hierarchy is tens of thousands of objects, and generic execution spends several
microseconds on every field (resolve info, resolver call, awaitable checks, completion by type). Most of
those fields need none of it: a scalar attribute of a dataclass, read by Strawberry's default resolver and
passed through its scalar's output coercion. ``FastExecutionContext`` finds those fields once per
selection (after graphql-core has collected it, so aliases, fragments, ``@skip``/``@include`` and
``__typename`` are already settled) and completes them in a tight loop of attribute reads and type checks.

A field is *plain* when all of these hold:

- it is ``__typename``, or it resolves by default: Strawberry's basic field (no resolver, no field
  extension or permission) or a graphql-core field without a resolver;
- it takes no arguments and carries no directive other than ``@skip``/``@include``;
- its type, under any ``!`` and list wrappers, is a scalar, an enum, or an object type whose selected
  fields are all plain (so a connection's ``nodes``, ``edges { node }`` and ``pageInfo`` can be plain).
  Interfaces and unions are not; an object type with an ``is_type_of`` of its own is not either.

The rest of a selection runs through graphql-core as usual, in the same order, with the same errors.

Exactness: the loop only ever produces a value when graphql-core would produce the same one. Whenever it
meets anything else (``null`` in a non-null position, a value that needs real coercion and fails, an
awaitable, an object that fails its type check, an exception from a read), it gives up on that object,
before any resolver of the object has run, and the object is executed again by graphql-core itself,
which then raises, locates and propagates the error exactly as it always does. Reads of plain fields
have no side effects, so reading one twice is harmless. The fast path is off entirely while any schema
extension wraps resolvers (a ``resolve`` hook, e.g. tracing), since those must see every field.

Fields that do run one by one skip one more step when they can: a resolver of the schema's own whose
arguments the document leaves out, and whose defaults are all ``null`` (a connection field written
bare, a hundred of them in a tree), is called with those ``null``s directly, without graphql-core's
coercion and Strawberry's conversion of the same defaults for every parent (``_direct``).

One difference in timing, none in results for this schema: an object's plain fields are all read before
its other fields' resolvers run, where graphql-core interleaves them in selection order. Only a resolver
that changed its own parent object's attributes as a side effect could tell.

Example::

    schema = strawberry.Schema(query=Query, execution_context_class=FastExecutionContext)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeAlias
from uuid import UUID

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import default_field_resolver, to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

__all__ = ["FastExecutionContext"]

_STRAWBERRY_DEFINITION: Final = "strawberry-definition"
_PLAIN_DIRECTIVES: Final = frozenset({"skip", "include"})

# How a plain field's value is read from its parent.
_GETATTR: Final = 0  # Strawberry's basic field under the default ``getattr`` resolver
_CALL: Final = 1  # Strawberry's basic field under another default resolver: call its resolve function
_DEFAULT: Final = 2  # graphql-core's default resolver: a mapping's key, else an attribute
_CONSTANT: Final = 3  # ``__typename``
_EXECUTE: Final = 4  # not plain: graphql-core executes it, in its place among the response keys

# How a value is completed.
_STRING: Final = 0  # String and ID: a ``str`` is already its output
_BOOLEAN: Final = 1
_INT: Final = 2
_LEAF: Final = 3  # any other scalar or enum: its own output coercion
_LIST: Final = 4
_OBJECT: Final = 5
_ENUM: Final = 6  # a Strawberry enum: its member's name from a table, else its own output coercion

#: ``(kind, nullable, payload)``: payload is the coercion for a leaf, the item's spec for a list,
#: ``(is_type_of, fields, class)`` for an object (its Strawberry class, whose instances pass
#: ``is_type_of`` unless cast to another type), and ``(enum class, names by member, coercion)`` for an enum.
_Spec: TypeAlias = tuple[int, bool, Any]
#: ``(response name, read mode, read key, kind, nullable, payload)``.
_Field: TypeAlias = tuple[str, int, Any, int, bool, Any]
#: One entry per response key, in order, and whether every one is plain.
_Plan: TypeAlias = tuple[tuple[_Field, ...], bool]
#: ``(Strawberry field, its resolver's keyword arguments but the source's and info's, whether the
#: resolver takes ``self``, names it takes the source under, (name, class) of the info it takes)``.
_Direct: TypeAlias = tuple[Any, dict[str, Any], bool, tuple[str, ...], tuple[str, Any] | None]
#: How Strawberry's wrappers of a Python resolver are named (``GraphQLCoreConverter.from_resolver``).
_STRAWBERRY_RESOLVERS: Final = ("from_resolver.<locals>._resolver", "from_resolver.<locals>._async_resolver")


class _GiveUp(Exception):
    """The loop met something only graphql-core may answer; that object is executed the usual way.

    Raised as the class, a fresh instance each time: a shared instance would keep every traceback."""


#: Types that are never awaitable, so a leaf of one goes straight to its scalar's coercion.
_INERT: Final = frozenset({str, int, float, bool, datetime, date, time, Decimal, UUID, dict, list})


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with plain fields completed in one loop per object (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        self._fast = self.field_resolver is default_field_resolver and not (
            middleware is not None and middleware.middlewares
        )
        # Keyed by the grouped field set's id; the set is kept alive with its plan so the id stays its own.
        self._plans: dict[int, tuple[GroupedFieldSet, GraphQLObjectType, _Plan | None]] = {}
        # Keyed by a field node's id, kept alive the same way.
        self._directs: dict[int, tuple[Any, GraphQLObjectType, _Direct | None]] = {}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """The answer, built once every field has run; the context then lets go of its own helpers.

        graphql-core's context holds helpers that are its own bound methods, a cycle only the cycle
        collector frees. It then freed each finished request's whole execution state (and its loaders)
        seldom and in bulk, and slow requests under upstream faults reached its oldest generation, where
        they waited for minutes. Without the cycle the state goes with the last reference to it.
        """
        response = super().build_response(data)
        del self.async_helpers
        return response

    # ---- execution ---------------------------------------------------------------------------------

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if position_context is None else None
        if plan is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        entries, all_plain = plan
        try:
            results = self._read_fields(entries, source_value)
        except Exception:  # whatever it was, graphql-core says what it means for this object
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        if all_plain:
            return results
        return self._execute_rest(parent_type, source_value, path, grouped_field_set, entries, results)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_field``; a resolver written in Python whose arguments are all left
        out of the document and default to ``null`` is called with them directly (see ``_direct``)."""
        direct = self._direct(parent_type, field_details_list)
        if direct is None:
            return super().execute_field(parent_type, source, field_details_list, path, position_context)
        strawberry_field, defaults, takes_self, source_names, takes_info = direct
        field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        assert field_def is not None  # _direct found it
        return_type = field_def.type
        info = self.build_resolve_info(field_def, to_nodes(field_details_list), parent_type, path)
        try:
            kwargs = dict(defaults)
            for name in source_names:
                kwargs[name] = source
            if takes_info is not None:
                info_name, info_class = takes_info
                kwargs[info_name] = info_class(_raw_info=info, _field=strawberry_field)
            result = strawberry_field.base_resolver(*((source,) if takes_self else ()), **kwargs)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if self.is_awaitable(completed):

            async def await_completed() -> Any:
                try:
                    return await completed
                except Exception as raw_error:
                    self.handle_field_error(raw_error, return_type, field_details_list, path)
                    return None

            return await_completed()
        return completed

    def _execute_rest(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        entries: tuple[_Field, ...],
        results: dict[str, Any],
    ) -> Any:
        """The fields that are not plain, as graphql-core's ``execute_fields`` runs them; ``results``
        already holds every response key in order (a placeholder where a field is still to run)."""
        is_awaitable = self.is_awaitable
        execute_field = self.execute_field
        type_name = parent_type.name
        awaitable_fields: list[str] = []
        try:
            for entry, (response_name, field_details_list) in zip(
                entries, grouped_field_set.items(), strict=True
            ):
                if entry[1] != _EXECUTE:
                    continue
                result = execute_field(
                    parent_type, source_value, field_details_list, Path(path, response_name, type_name), None
                )
                if result is Undefined:
                    del results[response_name]
                    continue
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:  # they may fail too: let them settle rather than leak
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def gather_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                name = awaitable_fields[0]
                results[name] = await results[name]
            else:
                awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return gather_results()

    def _read_fields(self, entries: tuple[_Field, ...], source: Any) -> dict[str, Any]:
        """One object's plain fields, completed, and a ``None`` placeholder for each other field (so the
        response keys keep their order); raises when the loop must give this object up."""
        results: dict[str, Any] = {}
        complete = self._complete
        for name, mode, key, kind, nullable, payload in entries:
            if mode == _GETATTR:
                value = getattr(source, key)
            elif mode == _CONSTANT:
                results[name] = key
                continue
            elif mode == _EXECUTE:
                results[name] = None  # its place among the response keys, filled by graphql-core
                continue
            elif mode == _CALL:
                value = key(source, None)
            else:
                value = source.get(key) if isinstance(source, Mapping) else getattr(source, key, None)
                if callable(value):  # graphql-core would call it with the resolve info
                    raise _GiveUp
            if value is None:
                if nullable:
                    results[name] = None
                    continue
                raise _GiveUp
            if kind == _STRING:
                results[name] = value if type(value) is str else self._coerce(payload, value)
            elif kind == _LEAF and type(value) in _INERT:
                coerced = payload(value)
                if coerced is None or coerced is Undefined:
                    raise _GiveUp
                results[name] = coerced
            elif kind == _BOOLEAN:
                results[name] = value if type(value) is bool else self._coerce(payload, value)
            elif kind == _INT and type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
                results[name] = value
            elif kind == _ENUM and type(value) is payload[0] and (named := payload[1].get(value)):
                results[name] = named
            else:
                results[name] = complete(kind, payload, value)
        return results

    def _complete(self, kind: int, payload: Any, value: Any) -> Any:
        """A non-null value completed to its output form (a list or an object included)."""
        if kind == _STRING:
            return value if type(value) is str else self._coerce(payload, value)
        if kind == _BOOLEAN:
            return value if type(value) is bool else self._coerce(payload, value)
        if kind == _INT:
            if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
                return value
            return self._coerce(payload, value)
        if kind == _LEAF:
            return self._coerce(payload, value)
        if kind == _ENUM:
            return self._coerce(payload[2], value)
        if kind == _OBJECT:
            is_type_of, entries, _ = payload
            if is_type_of is not None and is_type_of(value, None) is not True:
                raise _GiveUp
            return self._read_fields(entries, value)
        # a list: graphql-core iterates any iterable; a list or tuple is all the loop takes on
        if type(value) is not list and type(value) is not tuple:
            raise _GiveUp
        item_kind, item_nullable, item_payload = payload
        completed: list[Any] = []
        append = completed.append
        if item_kind == _OBJECT:  # a list of objects: the bulk of a large tree, read with a call less each
            is_type_of, entries, origin = item_payload
            read_fields = self._read_fields
            for item in value:
                if item is None:
                    if not item_nullable:
                        raise _GiveUp
                    append(None)
                elif (
                    is_type_of is None
                    or (item.__class__ is origin and getattr(item, TYPE_CAST_ATTRIBUTE, None) is None)
                    or is_type_of(item, None) is True
                ):
                    append(read_fields(entries, item))
                else:
                    raise _GiveUp
            return completed
        complete = self._complete
        for item in value:
            if item is None:
                if not item_nullable:
                    raise _GiveUp
                append(None)
            elif item_kind == _STRING and type(item) is str:
                append(item)
            else:
                append(complete(item_kind, item_payload, item))
        return completed

    def _coerce(self, coerce: Any, value: Any) -> Any:
        """A leaf's own output coercion, taken only when graphql-core would take it the same way."""
        if self.is_awaitable(value):
            raise _GiveUp
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _GiveUp
        return coerced

    # ---- planning ----------------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan | None:
        """The plan of one selection on one type (memoised per request); ``None`` when no field is plain."""
        if not self._fast:
            return None
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[1] is parent_type:
            return cached[2]
        entries = tuple(
            self._plain_field(parent_type, response_name, field_details_list)
            or (response_name, _EXECUTE, None, _LEAF, True, None)
            for response_name, field_details_list in grouped_field_set.items()
        )
        plain = sum(entry[1] != _EXECUTE for entry in entries)
        plan = (entries, plain == len(entries)) if plain else None
        self._plans[id(grouped_field_set)] = (grouped_field_set, parent_type, plan)
        return plan

    def _plain_field(
        self, parent_type: GraphQLObjectType, response_name: str, field_details_list: FieldDetailsList
    ) -> _Field | None:
        """How to read and complete one field in the loop, or ``None`` when graphql-core must run it."""
        node = field_details_list[0].node
        field_name = node.name.value
        for details in field_details_list:
            for directive in details.node.directives or ():
                if directive.name.value not in _PLAIN_DIRECTIVES:
                    return None
        if field_name == "__typename":
            return (response_name, _CONSTANT, parent_type.name, _STRING, False, None)
        field = self.schema.get_field(parent_type, field_name)
        if field is None or field.args or node.arguments or field_name.startswith("__"):
            return None
        mode: int
        key: Any
        if field.resolve is None:
            mode, key = _DEFAULT, field_name
        elif getattr(field.resolve, "_is_default", False):
            definition = field.extensions.get(_STRAWBERRY_DEFINITION)
            if definition is None:
                return None
            if getattr(definition, "default_resolver", None) is getattr:
                mode, key = _GETATTR, definition.python_name
            else:
                mode, key = _CALL, field.resolve
        else:
            return None
        spec = self._spec(field.type, field_details_list)
        if spec is None:
            return None
        kind, nullable, payload = spec
        return (response_name, mode, key, kind, nullable, payload)

    def _direct(self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> _Direct | None:
        """How to call a field's resolver without Strawberry's argument handling, or ``None``.

        A connection field takes five arguments, and a tree's hundred of them, written without any,
        each had every default coerced by graphql-core and then converted again by Strawberry, per
        field per parent. When the document gives none of the field's arguments, graphql-core's
        values are the field's defaults whatever the variables; when Strawberry converts all of them
        to ``None``, the resolver's keyword arguments are the same for every parent, so they are
        worked out once per request. Only for a resolver Strawberry would call as is: no field
        extension (permissions are extensions), no exception handler, no ``resolve`` hook.
        """
        node = field_details_list[0].node
        cached = self._directs.get(id(node))
        if cached is not None and cached[1] is parent_type:
            return cached[2]
        direct = self._plan_direct(parent_type, node)
        self._directs[id(node)] = (node, parent_type, direct)
        return direct

    def _plan_direct(self, parent_type: GraphQLObjectType, node: Any) -> _Direct | None:
        """``_direct``'s answer for one field node on one type, worked out."""
        if not self._fast or node.arguments:
            return None
        field_def = self.schema.get_field(parent_type, node.name.value)
        if field_def is None or not field_def.args or field_def.resolve is None:
            return None
        # Strawberry's own wrapper, as it builds it; anything else in its place may do more.
        if not getattr(field_def.resolve, "__qualname__", "").endswith(_STRAWBERRY_RESOLVERS):
            return None
        strawberry_field: Any = field_def.extensions.get(_STRAWBERRY_DEFINITION)
        resolver = getattr(strawberry_field, "base_resolver", None)
        strawberry_schema: Any = getattr(self.schema, "_strawberry_schema", None)
        converter: Any = getattr(strawberry_schema, "schema_converter", None)
        handlers = getattr(converter, "_exception_handler_specs", None)
        if resolver is None or strawberry_field.extensions or handlers is None or handlers:
            return None
        try:
            raw = get_argument_values(field_def, node, self.variable_values)
            converted = convert_arguments(
                raw, strawberry_field.arguments, converter.scalar_registry, strawberry_schema.config
            )
        except Exception:  # graphql-core raises it again, where it belongs
            return None
        if any(value is not None for value in converted.values()):
            return None
        source_names = tuple(
            parameter.name
            for parameter in (resolver.parent_parameter, resolver.root_parameter)
            if parameter is not None
        )
        info_parameter = resolver.info_parameter
        return (
            strawberry_field,
            converted,
            resolver.self_parameter is not None,
            source_names,
            (info_parameter.name, strawberry_schema.config.info_class) if info_parameter else None,
        )

    def _spec(self, type_: GraphQLOutputType, field_details_list: FieldDetailsList) -> _Spec | None:
        """How to complete a value of ``type_``, or ``None`` when the loop cannot complete it."""
        nullable = True
        if isinstance(type_, GraphQLNonNull):
            nullable, type_ = False, type_.of_type
        if isinstance(type_, GraphQLList):
            item = self._spec(type_.of_type, field_details_list)
            return (_LIST, nullable, item) if item is not None else None
        if type_ is GraphQLString or type_ is GraphQLID:
            return (_STRING, nullable, type_.coerce_output_value)
        if type_ is GraphQLBoolean:
            return (_BOOLEAN, nullable, type_.coerce_output_value)
        if type_ is GraphQLInt:
            return (_INT, nullable, type_.coerce_output_value)
        if isinstance(type_, GraphQLEnumType) and (names := _enum_names(type_)) is not None:
            return (_ENUM, nullable, names)
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return (_LEAF, nullable, type_.coerce_output_value)
        if isinstance(type_, GraphQLObjectType):
            is_type_of = type_.is_type_of
            if is_type_of is not None:
                # Strawberry's own check only looks at the value; one written by hand may need the info.
                definition = type_.extensions.get(_STRAWBERRY_DEFINITION)
                if definition is None or getattr(definition, "is_type_of", None) is not None:
                    return None
            collected = self.collect_subfields(type_, field_details_list)
            if collected.new_defer_usages or collected.forbidden_directive_instances:
                return None
            plan = self._plan(type_, collected.grouped_field_set)
            if plan is None or not plan[1]:
                return None
            origin = getattr(type_.extensions.get(_STRAWBERRY_DEFINITION), "origin", None)
            return (_OBJECT, nullable, (is_type_of, plan[0], origin))
        return None


def _enum_names(type_: GraphQLEnumType) -> tuple[type[Enum], dict[Any, str], Any] | None:
    """For a Strawberry enum: its Python class, each member's GraphQL name, and its own coercion.

    Strawberry's coercion answers a member with the first GraphQL value whose ``value`` equals the
    member's; the table holds the same answer per member, so a lookup replaces the walk over the values.
    ``None`` for an enum that is not Strawberry's (its own coercion then runs as a leaf's).
    """
    wrapped = getattr(type_, "wrapped_cls", None)
    if not isinstance(wrapped, type) or not issubclass(wrapped, Enum):
        return None
    names: dict[Any, str] = {}
    for member in wrapped:
        for name, value in type_.values.items():
            if member.value == value.value:
                names[member] = name
                break
    return wrapped, names, type_.coerce_output_value
