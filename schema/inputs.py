"""Input objects built by a plan made once per type, instead of Strawberry's general
conversion, which works out every field's GraphQL name and type again on every
request (about 7 % of a recordDonation's CPU in a worker, measured with py-spy).

Strawberry's `from_input` hook lets a type build its own value from the input value
graphql-core has already validated and coerced: scalars and enums are then final,
so a plan only renames the fields, recurses into nested inputs and lists, and calls
the class. Anything it does not recognise it hands back to Strawberry's conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

import strawberry
from strawberry.scalars import is_scalar
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

# value, context, GraphQL field name -> the converted value
Convert = Callable[[Any, InputContext, str], Any]
_MISSING = object()


def use_planned_inputs(schema: strawberry.Schema) -> None:
    """Give every input type of the schema a planned from_input (unless it has one)."""
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if (
            isinstance(definition, StrawberryObjectDefinition)
            and definition.is_input
            and definition.from_input is None
            # Maybe fields come wrapped in Some(): left to Strawberry.
            and not any(
                isinstance(f.resolve_type(type_definition=definition), StrawberryMaybe)
                for f in definition.fields
            )
        ):
            definition.from_input = _from_input


# Per input class: (GraphQL name, Python name, convert or None, default if omitted).
_plans: dict[type, tuple[tuple[str, str, Convert | None, Any], ...]] = {}


def _from_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    plan = _plans.get(cls)
    if plan is None:
        plan = _plans[cls] = _plan(cls, context)
    kwargs = {}
    for graphql_name, python_name, convert, default in plan:
        if graphql_name in value:
            item = value[graphql_name]
            if convert is not None and item is not None:
                item = convert(item, context, graphql_name)
            kwargs[python_name] = item
        elif default is not _MISSING:
            kwargs[python_name] = default
    return cls(**kwargs)


def _plan(cls: type, context: InputContext) -> tuple:
    definition: StrawberryObjectDefinition = cls.__strawberry_definition__
    plan = []
    for field in definition.fields:
        no_default = field.default_value is MISSING and field.default_factory is MISSING
        plan.append(
            (
                context.config.name_converter.from_field(field),
                field.python_name,
                _converter(field.resolve_type(type_definition=definition), context),
                # As Strawberry does: a field the client left out and the class gives
                # no default to is None (graphql-core has made sure it is nullable).
                None if no_default else _MISSING,
            )
        )
    return tuple(plan)


def _converter(type_: Any, context: InputContext) -> Convert | None:
    """How to convert a non-null value of type_; None when it is final as it comes."""
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type, context)
    if isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_):
        return None
    if not isinstance(type_, StrawberryList) and is_scalar(type_, context.scalar_registry):
        if type_ is strawberry.relay.GlobalID:
            return _general(type_)
        return None
    if isinstance(type_, StrawberryList):
        item = _converter(type_.of_type, context)
        if item is None:
            # A copy, as Strawberry makes: graphql-core hands every request that omits
            # the value the same default list.
            return lambda value, _context, _name: list(value)
        return lambda value, ctx, name: [None if x is None else item(x, ctx, name) for x in value]
    if has_object_definition(type_) and type_.__strawberry_definition__.is_input:
        return lambda value, ctx, name: ctx.convert(value, type_, name)
    return _general(type_)


def _general(type_: Any) -> Convert:
    return lambda value, ctx, name: ctx.convert(value, type_, name)
