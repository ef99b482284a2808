"""importStatement, resolveStatementLine and reopenStatementLine (FINANCE, ADMIN); their
inputs are in schema/types/reconciliation.py."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import reconciliation
from resolvers.commands import ImportStatement, ReopenStatementLine, ResolveStatementLine
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, payload
from schema.types.reconciliation import (
    ImportStatementInput,
    ReopenStatementLineInput,
    ResolveStatementLineInput,
    StatementImport,
    StatementLine,
)

ImportStatementPayload = payload(
    "ImportStatementPayload", "statement_import", StatementImport, "Result of importStatement."
)
ResolveStatementLinePayload = payload(
    "ResolveStatementLinePayload", "line", StatementLine, "Result of resolveStatementLine."
)
ReopenStatementLinePayload = payload(
    "ReopenStatementLinePayload", "line", StatementLine, "Result of reopenStatementLine."
)


@strawberry.type
class ReconciliationMutations:
    @strawberry.mutation(
        description="Import a settlement file or bank statement and match its lines (FINANCE, ADMIN); a settlement file's payout is booked as one entry."
    )
    async def import_statement(
        self, info: Info, input: Annotated[ImportStatementInput, INPUT]
    ) -> ImportStatementPayload:
        cmd = ImportStatement(
            fund_id=key(input.fund_id, "Fund"),
            source=input.source.value,
            csv=input.csv,
            idempotency_key=input.idempotency_key,
            payout_ref=input.payout_ref,
            payout_date=input.payout_date,
        )
        row, errors = await execute(info, reconciliation.import_statement, cmd)
        return ImportStatementPayload(statement_import=of(StatementImport.of, row), errors=errors)

    @strawberry.mutation(
        description="Resolve an UNMATCHED or DISCREPANCY statement line: IGNORE or SUSPENSE (FINANCE, ADMIN)."
    )
    async def resolve_statement_line(
        self, info: Info, input: Annotated[ResolveStatementLineInput, INPUT]
    ) -> ResolveStatementLinePayload:
        cmd = ResolveStatementLine(
            statement_import_id=key(input.statement_import_id, "StatementImport"),
            line_no=input.line_no,
            resolution=input.resolution.value,
            note=input.note,
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, reconciliation.resolve_statement_line, cmd)
        return ResolveStatementLinePayload(line=of(StatementLine.of, row), errors=errors)

    @strawberry.mutation(
        description="Take a resolution back (FINANCE, ADMIN): the line is UNMATCHED or DISCREPANCY again, as it was; a SUSPENSE booking is reversed, refused once its money left unidentified receipts or the bank (INVALID_STATE, INSUFFICIENT_FUNDS). A line resolved before its former status was kept is INVALID_STATE."
    )
    async def reopen_statement_line(
        self, info: Info, input: Annotated[ReopenStatementLineInput, INPUT]
    ) -> ReopenStatementLinePayload:
        cmd = ReopenStatementLine(
            statement_import_id=key(input.statement_import_id, "StatementImport"),
            line_no=input.line_no,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, reconciliation.reopen_statement_line, cmd)
        return ReopenStatementLinePayload(line=of(StatementLine.of, row), errors=errors)
