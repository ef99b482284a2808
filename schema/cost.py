"""What a document costs once its fragments are expanded: depth, aliases and field
selections, computed in time linear in the document's size.

Walking the expansion itself is exponential: seven fragments that each spread the next
twelve times expand into millions of selections from a 600-character query. Here each
fragment's figures are computed once (memoised) and a spread adds them, so the totals
are those of the expanded document while the walk visits every node once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class Cost:
    depth: int = 0  # fields on the longest path, introspection fields not counted
    aliases: int = 0
    fields: int = 0  # field selections after expansion

    def plus(self, other: Cost) -> Cost:
        return Cost(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.fields + other.fields,
        )


@dataclass(frozen=True)
class CostLimits:
    max_depth: int
    max_aliases: int
    max_fields: int
    # Within one selection set as written: the same response key selected more often, or
    # more directives on one field, is no query a client needs (field duplication and
    # directive overloading, as auditors probe them).
    max_duplicates: int = 20
    max_directives: int = 4


class _Walk:
    def __init__(self, document: DocumentNode, limits: CostLimits):
        self.limits = limits
        self.overloaded: str | None = None  # the first duplication or directive overload
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, Cost] = {}
        self.open: set[str] = set()  # fragments being walked: a cycle adds nothing here

    def selection_set(self, node: SelectionSetNode | None) -> Cost:
        total = Cost()
        if node is None:
            return total
        self._check_overload(node)
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection))
            elif isinstance(selection, InlineFragmentNode):
                total = total.plus(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value))
        return total

    def _check_overload(self, node: SelectionSetNode) -> None:
        keys = Counter(
            (s.alias or s.name).value for s in node.selections if isinstance(s, FieldNode)
        )
        key, count = next(iter(keys.most_common(1)), ("", 0))
        if count > self.limits.max_duplicates and self.overloaded is None:
            self.overloaded = f"'{key}' is selected {count} times in one selection set"
        for selection in node.selections:
            if len(selection.directives or ()) > self.limits.max_directives:
                self.overloaded = self.overloaded or (
                    # Worded as graphql-cop reads a directive limit ("too many directives").
                    f"too many directives on one selection: at most {self.limits.max_directives}"
                )

    def field(self, node: FieldNode) -> Cost:
        inner = self.selection_set(node.selection_set)
        counted = node.selection_set is not None and not node.name.value.startswith("__")
        return Cost(
            depth=inner.depth + 1 if counted else inner.depth,
            aliases=inner.aliases + (1 if node.alias else 0),
            fields=inner.fields + 1,
        )

    def fragment(self, name: str) -> Cost:
        known = self.memo.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return Cost()  # unknown fragments and cycles are validation's to report
        self.open.add(name)
        cost = self.memo[name] = self.selection_set(definition.selection_set)
        self.open.discard(name)
        return cost


def cost_errors(document: DocumentNode, limits: CostLimits) -> list[GraphQLError]:
    """The limits the document's operations break, as validation errors."""
    walk = _Walk(document, limits)
    costs = {
        (d.name.value if d.name else ""): walk.selection_set(d.selection_set)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }
    for name in walk.fragments:  # fragments no operation spreads are checked too
        walk.fragment(name)
    if walk.overloaded:
        return [GraphQLError(walk.overloaded)]
    errors = []
    for name, cost in costs.items():
        label = f"'{name or 'anonymous'}'"
        if cost.depth > limits.max_depth:
            errors.append(
                GraphQLError(f"{label} exceeds maximum operation depth of {limits.max_depth}")
            )
        if cost.aliases > limits.max_aliases:
            errors.append(
                GraphQLError(
                    f"{label} has {cost.aliases} aliases once fragments are expanded:"
                    f" more than the {limits.max_aliases} aliases allowed"
                )
            )
        if cost.fields > limits.max_fields:
            errors.append(
                GraphQLError(
                    f"{label} selects {cost.fields} fields once fragments are expanded:"
                    f" more than the {limits.max_fields} allowed"
                )
            )
    return errors
