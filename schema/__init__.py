"""The GraphQL schema: types, inputs and the strawberry.Schema object."""

from __future__ import annotations

from datetime import tzinfo

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.executor import PlainSubtreeExecutor
from schema.extensions import ErrorCodes
from schema.hooks import WrappedOnceRunner
from schema.inputs import use_planned_inputs
from schema.mutations import Mutation
from schema.mutations_undo import UndoMutations
from schema.official_receipts import OfficialReceiptMutations, OfficialReceiptQueries
from schema.pipeline import RequestLimits
from schema.public_report_cache import PublicReportCache
from schema.query import Query
from schema.query_reports import ReportQueries
from schema.subscription import Subscription
from schema.types.common import funds_timezone, scalar_map
from schema.types.disbursements import Disbursement
from schema.types.donations import CashCount, Donation
from schema.types.funds import Campaign, Fund
from schema.types.ledger import JournalEntry, LedgerAccount
from schema.types.partners import Contribution, Partner
from schema.types.places import Community, Grid, Subdistrict
from schema.types.receipts import ReceiptMutations
from schema.types.reconciliation import StatementImport
from schema.types.users import User

MAX_DEPTH = 12
MAX_ALIASES = 15
MAX_TOKENS = 2000
MAX_FIELDS = 2000  # field selections once fragments are expanded (schema/cost.py)


QUERY_DESCRIPTION = (
    "Everything that can be read: node(id) for any object, lists, reports and checks."
)
MUTATION_DESCRIPTION = (
    "Everything that writes. Each takes one input and answers a payload whose `errors` say "
    "why nothing was written; writes that take an idempotencyKey can be retried safely."
)


def _root(name: str, description: str, types: tuple[type, ...]) -> type:
    """merge_types, keeping a description (the merged type has none of its own)."""
    merged = merge_types(name, types)
    merged.__strawberry_definition__.description = description
    return merged


class JinlinSchema(strawberry.Schema):
    def create_extensions_runner(self, execution_context, extensions) -> WrappedOnceRunner:
        return WrappedOnceRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        # ErrorCodes already logged what was unexpected; client errors are not news.
        return None


def build_schema(*, production: bool = False, timezone: tzinfo | None = None) -> strawberry.Schema:
    """The schema; DateTime answers in `timezone` (by default JINLIN_TIMEZONE's)."""
    # Factories: each request gets fresh extension instances; the parse and
    # validation caches (schema/pipeline.py) live at module level, shared.
    limits = RequestLimits(
        max_depth=MAX_DEPTH,
        max_aliases=MAX_ALIASES,
        max_tokens=MAX_TOKENS,
        max_fields=MAX_FIELDS,
        production=production,
    )
    extensions = [lambda: ErrorCodes(production=production), limits.extension, PublicReportCache]
    schema = JinlinSchema(
        query=_root("Query", QUERY_DESCRIPTION, (Query, OfficialReceiptQueries, ReportQueries)),
        mutation=_root(
            "Mutation",
            MUTATION_DESCRIPTION,
            (Mutation, ReceiptMutations, UndoMutations, OfficialReceiptMutations),
        ),
        subscription=Subscription,
        types=[
            Subdistrict,
            Community,
            Grid,
            Partner,
            Contribution,
            User,
            Fund,
            Campaign,
            Donation,
            Disbursement,
            CashCount,
            LedgerAccount,
            JournalEntry,
            StatementImport,
        ],
        extensions=extensions,
        execution_context_class=PlainSubtreeExecutor,
        config=StrawberryConfig(
            disable_field_suggestions=production,
            scalar_map=scalar_map(timezone or funds_timezone()),
        ),
    )
    use_planned_inputs(schema)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
