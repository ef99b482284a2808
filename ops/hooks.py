"""Where the metrics listen: the engine's pool, the write gate, and two schema fields
(recordDonation and verifyJournal), wrapped once at start so that no other field pays
for it."""

from __future__ import annotations

import inspect

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db import uow
from ops import metrics


class _GateMetrics:
    def waiting(self, delta: int) -> None:
        metrics.GATE_WAITING.inc(delta)

    def waited(self, seconds: float) -> None:
        metrics.GATE_WAIT.observe(seconds)


def watch_engine(engine: AsyncEngine) -> None:
    """Connections in use, and the write gate's queue and waits."""
    watch_pool(engine, metrics.POOL_IN_USE)
    uow.gate_watch = _GateMetrics()


def watch_pool(engine: AsyncEngine, in_use) -> None:
    """Connections checked out of the engine's pool, in the gauge `in_use`."""

    def checkout(*_args) -> None:
        in_use.inc()

    def checkin(*_args) -> None:
        in_use.dec()

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)


def watch_schema(schema) -> None:
    """Donations recorded (by channel), the last verification and audit of each fund."""
    graphql_schema = schema._schema
    mutations = graphql_schema.mutation_type.fields
    queries = graphql_schema.query_type.fields
    _after(mutations["recordDonation"], _donation_recorded)
    _after(queries["verifyJournal"], _journal_verified)
    _audited(graphql_schema.type_map["Fund"].fields["audit"])


def _after(field, observe) -> None:
    inner = field.resolve

    async def resolve(source, info, **kwargs):
        result = inner(source, info, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        observe(result, kwargs)
        return result

    field.resolve = resolve


def _audited(field) -> None:
    """Fund.audit: the fund is the field's source, a Fund with its global id."""
    inner = field.resolve

    async def resolve(source, info, **kwargs):
        result = inner(source, info, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        metrics.record_audit(source.id, bool(getattr(result, "ok", False)))
        return result

    field.resolve = resolve


def _donation_recorded(payload, _kwargs) -> None:
    from resolvers.donation_rows import RecordedDonation

    donation = getattr(payload, "donation", None)
    row = getattr(donation, "row", None)
    # A replay answers the row read back; only a new donation is a RecordedDonation.
    if isinstance(row, RecordedDonation):
        metrics.record_donation(row.channel, row.amount_fen)


def _journal_verified(result, kwargs) -> None:
    from resolvers.ids import decode_id, to_global_id

    fund = kwargs.get("fund_id", kwargs.get("fundId"))
    try:
        label = to_global_id("Fund", decode_id(fund, "Fund", field="fundId", what="fund"))
    except Exception:
        return
    metrics.record_verification(label, bool(getattr(result, "ok", False)))
