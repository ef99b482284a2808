"""Codes for errors in what the client sent, before anything ran.

- A document that does not parse: GRAPHQL_PARSE_FAILED.
- A variable GraphQL cannot coerce to its type (a JSON number for a Decimal, an
  unknown enum value, a missing required value, an ID given as an object):
  BAD_USER_INPUT, with the path to the value at fault, variable name first, in
  `extensions.field` (["i", "amount", "amount"] for `$i.amount.amount`).

Validation failures keep GRAPHQL_VALIDATION_FAILED (schema/extensions.py). These are
the codes Apollo's clients and tools know; none of these is ever an internal error.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Undefined,
    VariableDefinitionNode,
    type_from_ast,
    validate_input_value,
)

# graphql-core's variable errors that carry no variable of their own.
_WHOLE_VARIABLES_ERRORS = (
    "Variable values are nested too deeply.",
    "Too many errors processing variables, error limit reached. Execution aborted.",
)


def client_error_extensions(
    error: GraphQLError, schema: GraphQLSchema, variables: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The extensions of an error in the request itself; None for any other error."""
    if isinstance(error, GraphQLSyntaxError):
        return {"code": "GRAPHQL_PARSE_FAILED"}
    if error.path is None and error.message in _WHOLE_VARIABLES_ERRORS:
        return {"code": "BAD_USER_INPUT"}
    node = error.nodes[0] if error.nodes else None
    # A coercion error, unlike a validation error about the same variable definition,
    # carries the error that coercing the value raised.
    if error.path is None and isinstance(node, VariableDefinitionNode) and error.original_error:
        name = node.variable.name.value
        value = (variables or {}).get(name, Undefined)
        return {"code": "BAD_USER_INPUT", "field": [name, *_value_path(error, schema, node, value)]}
    return None


def _value_path(
    error: GraphQLError, schema: GraphQLSchema, node: VariableDefinitionNode, value: Any
) -> list[str | int]:
    """Where inside the variable's value the error is. graphql-core prints that path
    into the message only, so the value is checked again, keeping the paths, and the
    error whose message ends this one's gives it."""
    type_ = type_from_ast(schema, node.type)
    if type_ is None:
        return []
    found: list[tuple[str, list[str | int]]] = []
    validate_input_value(value, type_, lambda e, path: found.append((e.message, path)))
    for message, path in found:
        if error.message.endswith(message):
            return list(path)
    return list(found[0][1]) if found else []
