"""The audit beyond the journal: every position re-derived from the business records
and compared with the ledger, and every record's status with the entries it owns.

verify_journal (ledger/reports.py) proves the journal is intact; this proves the
records beside it agree with it. Each check is one query that returns the
disagreements it finds, as (what, message) pairs; an empty audit is a clean one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Finding:
    check: str
    message: str


@dataclass(frozen=True)
class Audit:
    fund_id: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


# Each position: the ledger's balance of the account, and what the records say it is.
_POSITIONS = text(
    """
    WITH acct AS (
        SELECT a.code, a.balance_fen FROM ledger_accounts AS a WHERE a.fund_id = :fund
    ), standing AS (
        SELECT d.* FROM donations AS d WHERE d.fund_id = :fund AND d.status <> 'VOIDED'
    ), cash_refunds AS (
        SELECT coalesce(sum(p.amount_fen), 0) AS fen
        FROM standing AS d
        JOIN postings AS p ON p.entry_id = d.refund_entry_id AND p.side = 'CREDIT'
        JOIN ledger_accounts AS a ON a.id = p.account_id AND a.code = '1009.09'
    )
    SELECT 'online clearing (1009.01)', (SELECT balance_fen FROM acct WHERE code = '1009.01'),
           (SELECT coalesce(sum(amount_fen), 0) FROM standing
            WHERE channel = 'ONLINE' AND status = 'RECEIVED')
    UNION ALL
    SELECT 'uncounted cash (1009.09)', (SELECT balance_fen FROM acct WHERE code = '1009.09'),
           (SELECT coalesce(sum(amount_fen), 0) FROM standing
            WHERE channel IN ('CASH', 'CHARITY_SALE'))
           - (SELECT fen FROM cash_refunds)
           - (SELECT coalesce(sum(expected_fen), 0) FROM cash_counts
              WHERE fund_id = :fund AND reversal_entry_id IS NULL)
    UNION ALL
    SELECT 'payable (2209.01)', (SELECT balance_fen FROM acct WHERE code = '2209.01'),
           (SELECT coalesce(sum(amount_fen), 0) FROM disbursements
            WHERE fund_id = :fund AND status = 'APPROVED')
    """
)

# Records whose status disagrees with the entries they own (or the other way round).
_STATUSES = text(
    """
    WITH reversal AS (
        SELECT e.reverses_id AS of, e.id FROM journal_entries AS e
        WHERE e.fund_id = :fund AND e.reverses_id IS NOT NULL
    )
    SELECT format('donation %s is %s, but %s', d.id, d.status, problem)
    FROM donations AS d
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN d.status = 'VOIDED' AND d.void_entry_id IS DISTINCT FROM
                   (SELECT id FROM reversal WHERE of = d.entry_id)
              THEN 'its entry was not reversed by its void' END),
        (CASE WHEN d.status <> 'VOIDED' AND EXISTS (SELECT 1 FROM reversal WHERE of = d.entry_id)
              THEN 'its entry was reversed' END),
        (CASE WHEN (d.status = 'REFUNDED') <> (d.refund_entry_id IS NOT NULL)
              THEN 'its refund entry says otherwise' END),
        (CASE WHEN d.refund_entry_id IS NOT NULL
                   AND EXISTS (SELECT 1 FROM reversal WHERE of = d.refund_entry_id)
              THEN 'its refund entry was reversed' END),
        (CASE WHEN d.channel = 'ONLINE' AND d.status IN ('RECEIVED', 'SETTLED')
                   AND (d.status = 'SETTLED') <> (d.settled_entry_id IS NOT NULL)
              THEN 'its settlement entry says otherwise' END)
    ) AS checks(problem)
    WHERE d.fund_id = :fund AND problem IS NOT NULL
    UNION ALL
    SELECT format('disbursement %s is %s, but %s', b.id, b.status, problem)
    FROM disbursements AS b
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN b.status IN ('APPROVED', 'PAID', 'CANCELLED') AND b.approve_entry_id IS NULL
              THEN 'it has no approval entry' END),
        (CASE WHEN (b.status = 'PAID') <> (b.pay_entry_id IS NOT NULL)
              THEN 'its payment entry says otherwise' END),
        (CASE WHEN b.status = 'CANCELLED' AND b.cancel_entry_id IS DISTINCT FROM
                   (SELECT id FROM reversal WHERE of = b.approve_entry_id)
              THEN 'its approval was not reversed by its cancellation' END),
        (CASE WHEN b.status <> 'CANCELLED'
                   AND EXISTS (SELECT 1 FROM reversal WHERE of = b.approve_entry_id)
              THEN 'its approval was reversed' END),
        (CASE WHEN EXISTS (SELECT 1 FROM reversal WHERE of = b.pay_entry_id)
              THEN 'its payment was reversed' END)
    ) AS checks(problem)
    WHERE b.fund_id = :fund AND problem IS NOT NULL
    UNION ALL
    SELECT format('disbursement %s had a payment taken back, but %s', r.disbursement_id, problem)
    FROM reversed_payments AS r
    JOIN disbursements AS b ON b.id = r.disbursement_id
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN r.reversal_entry_id IS DISTINCT FROM
                   (SELECT id FROM reversal WHERE of = r.entry_id)
              THEN 'the reversals of that payment''s entry disagree' END),
        (CASE WHEN r.entry_id = b.pay_entry_id
              THEN 'it still names that payment' END)
    ) AS checks(problem)
    WHERE b.fund_id = :fund AND problem IS NOT NULL
    UNION ALL
    SELECT format('cash count %s %s', c.id, problem)
    FROM cash_counts AS c
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN c.reversal_entry_id IS DISTINCT FROM
                   (SELECT id FROM reversal WHERE of = c.entry_id)
              THEN 'and the reversals of its entry disagree' END)
    ) AS checks(problem)
    WHERE c.fund_id = :fund AND problem IS NOT NULL
    UNION ALL
    SELECT format('statement import %s %s', i.id, problem)
    FROM statement_imports AS i
    CROSS JOIN LATERAL (VALUES
        (CASE WHEN i.undo_entry_id IS DISTINCT FROM
                   (SELECT id FROM reversal WHERE of = i.entry_id)
              THEN 'and the reversals of its payout entry disagree' END),
        (CASE WHEN (i.undone_at IS NULL) <> (i.undo_entry_id IS NULL) AND i.entry_id IS NOT NULL
              THEN 'is undone only in part' END)
    ) AS checks(problem)
    WHERE i.fund_id = :fund AND problem IS NOT NULL
    """
)

# Entries a business operation made that no record owns.
_ORPHANS = text(
    """
    SELECT format('entry %s (%s) belongs to no record', e.sequence, e.kind)
    FROM journal_entries AS e
    WHERE e.fund_id = :fund AND e.kind IN ('donation', 'refund', 'cash_count',
          'disbursement_approval', 'disbursement_payment', 'settlement')
      AND NOT EXISTS (SELECT 1 FROM donations AS d
                      WHERE e.id IN (d.entry_id, d.refund_entry_id))
      AND NOT EXISTS (SELECT 1 FROM cash_counts AS c WHERE c.entry_id = e.id)
      AND NOT EXISTS (SELECT 1 FROM disbursements AS b
                      WHERE e.id IN (b.approve_entry_id, b.pay_entry_id))
      AND NOT EXISTS (SELECT 1 FROM reversed_payments AS r WHERE r.entry_id = e.id)
      AND NOT EXISTS (SELECT 1 FROM statement_imports AS i WHERE i.entry_id = e.id)
    ORDER BY e.sequence
    """
)

# The lowest balance each guarded account ever had, as of each instant (all of an
# instant's postings together).
_GUARDS = text(
    """
    SELECT a.code, min(running)
    FROM ledger_accounts AS a
    JOIN (
        SELECT p.account_id,
               sum(sum(p.normal_delta_fen)) OVER (PARTITION BY p.account_id
                                                  ORDER BY p.effective_at) AS running
        FROM postings AS p
        JOIN ledger_accounts AS g ON g.id = p.account_id AND g.fund_id = :fund AND g.guarded
        GROUP BY p.account_id, p.effective_at
    ) AS r ON r.account_id = a.id
    GROUP BY a.code
    HAVING min(running) < 0
    ORDER BY a.code
    """
)

# Matched statement lines of imports still standing must point to live entries.
_LINES = text(
    """
    SELECT format('statement line %s:%s points to entry %s, which was reversed',
                  l.import_id, l.line_no, e.sequence)
    FROM statement_lines AS l
    JOIN statement_imports AS i ON i.id = l.import_id AND i.undone_at IS NULL
    JOIN journal_entries AS e ON e.id = l.matched_entry_id
    WHERE l.fund_id = :fund AND l.status = 'MATCHED'
      AND EXISTS (SELECT 1 FROM journal_entries AS r WHERE r.reverses_id = e.id)
    UNION ALL
    SELECT format('statement line %s:%s settled donation %s, which is %s',
                  l.import_id, l.line_no, d.id, d.status)
    FROM statement_lines AS l
    JOIN statement_imports AS i ON i.id = l.import_id AND i.undone_at IS NULL
              AND i.source = 'PAYMENT_CHANNEL'
    JOIN donations AS d ON d.id = l.matched_donation_id
    WHERE l.fund_id = :fund AND l.status = 'MATCHED' AND d.status <> 'SETTLED'
    """
)


async def audit_fund(session: AsyncSession, fund_id: int) -> Audit:
    """Every check on one fund, in one read-only snapshot of the caller's session."""
    params = {"fund": fund_id}
    findings = [
        Finding("position", f"{name}: the ledger holds {held} fen, the records say {derived}")
        for name, held, derived in await session.execute(_POSITIONS, params)
        if held != derived
    ]
    for check, statement in (
        ("status", _STATUSES),
        ("owner", _ORPHANS),
        ("statement line", _LINES),
    ):
        rows = await session.execute(statement, params)
        findings += [Finding(check, message) for (message,) in rows]
    findings += [
        Finding("guard", f"account {code} went down to {lowest} fen at some instant")
        for code, lowest in await session.execute(_GUARDS, params)
    ]
    return Audit(fund_id, findings)
