"""The GraphQL schema: types, inputs and the strawberry.Schema object."""

from __future__ import annotations

import copy

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from schema.extensions import ErrorCodes
from schema.inputs import use_planned_inputs
from schema.mutations import Mutation
from schema.query import Query
from schema.subscription import Subscription
from schema.types.disbursements import Disbursement
from schema.types.donations import CashCount, Donation
from schema.types.funds import Campaign, Fund
from schema.types.ledger import JournalEntry, LedgerAccount
from schema.types.partners import Contribution, Partner
from schema.types.places import Community, Grid, Subdistrict
from schema.types.reconciliation import StatementImport
from schema.types.users import User

MAX_DEPTH = 12
MAX_ALIASES = 15
MAX_TOKENS = 2000


class JinlinSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        # ErrorCodes already logged what was unexpected; client errors are not news.
        return None


def build_schema(*, production: bool = False) -> strawberry.Schema:
    # Factories: each request gets fresh extension instances. The parser and
    # validation caches live at module level in strawberry, so they are still
    # shared; the limiters are copies of one instance because each new instance
    # makes a new validation-rule class, and the validation cache keys on it.
    depth = QueryDepthLimiter(max_depth=MAX_DEPTH)
    aliases = MaxAliasesLimiter(max_alias_count=MAX_ALIASES)
    extensions = [
        lambda: ErrorCodes(production=production),
        lambda: copy.copy(depth),
        lambda: copy.copy(aliases),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ]
    if production:
        extensions.append(DisableIntrospection)
    schema = JinlinSchema(
        query=Query,
        mutation=Mutation,
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
        config=StrawberryConfig(disable_field_suggestions=production),
    )
    use_planned_inputs(schema)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
