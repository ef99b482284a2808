"""Control characters in string arguments are refused once, before execution.

A NUL byte cannot be stored in PostgreSQL text (the driver raises), and the other
control characters have no business in a name, code, key or note: they are
INVALID_INPUT on whatever argument or input field carries them, literal or variable,
and no resolver ever sees them. Tab, newline and carriage return are text and pass.

Where strings sit in a document (literals, and the argument paths each variable feeds)
is found once per document and cached with it; a request then only scans the values of
the variables it sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    visit,
)
from graphql.language import Visitor

# C0 controls but tab, newline and carriage return; DEL; the C1 controls; surrogates
# (which orjson lets through as lone escapes and no database can store).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MESSAGE = "control characters (such as NUL) are not allowed in text"


@dataclass(frozen=True)
class StringSites:
    literal_errors: tuple[tuple[str, ...], ...]  # argument paths holding a bad literal
    variables: tuple[tuple[str, tuple[str, ...]], ...]  # (variable, argument path it feeds)


def has_control_characters(text: str) -> bool:
    return FORBIDDEN.search(text) is not None


class _Collector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.bad: list[tuple[str, ...]] = []
        self.uses: list[tuple[str, tuple[str, ...]]] = []

    def enter_field(self, node: FieldNode, *_args) -> None:
        for argument in node.arguments or ():
            self.value(argument.value, (argument.name.value,))

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
        for definition in node.variable_definitions or ():
            if definition.default_value is not None:
                self.value(definition.default_value, (definition.variable.name.value,))

    def value(self, node: ValueNode, path: tuple[str, ...]) -> None:
        if isinstance(node, StringValueNode):
            if has_control_characters(node.value):
                self.bad.append(path)
        elif isinstance(node, VariableNode):
            self.uses.append((node.name.value, path))
        elif isinstance(node, ListValueNode):
            for item in node.values:
                self.value(item, path)
        elif isinstance(node, ObjectValueNode):
            for field in node.fields:
                self.value(field.value, (*path, field.name.value))


def string_sites(document: DocumentNode) -> StringSites:
    collector = _Collector()
    visit(document, collector)
    return StringSites(tuple(collector.bad), tuple(collector.uses))


def _bad_paths(value: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, str):
        if has_control_characters(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _bad_paths(item, (*path, str(key)))
    elif isinstance(value, list):
        for item in value:
            yield from _bad_paths(item, path)


def string_errors(sites: StringSites, variables: dict | None) -> list[GraphQLError]:
    """INVALID_INPUT errors, one per argument path carrying a control character."""
    paths = list(sites.literal_errors)
    if variables and sites.variables:
        for name, path in sites.variables:
            if name in variables:
                paths.extend(_bad_paths(variables[name], path))
    return [
        GraphQLError(
            f"{'.'.join(path)}: {MESSAGE}",
            extensions={"code": "INVALID_INPUT", "field": list(path)},
        )
        for path in dict.fromkeys(paths)
    ]
