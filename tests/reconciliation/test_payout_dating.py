"""The payout entry is dated by the statement (or payoutDate), over the real GraphQL API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reconciliation.detect import read_statement
from tests.api.client import new_key
from tests.reconciliation.conftest import Books

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
SHANGHAI = ZoneInfo("Asia/Shanghai")
IMPORT = """mutation($i: ImportStatementInput!){ importStatement(input:$i){
  statementImport{ id matchedCount journalEntry{ id effectiveAt reference } }
  errors{ code message field } } }"""


def wechat_refs() -> list[tuple[str, str]]:
    """(微信订单号, 应结订单金额) of the trade bill sample."""
    rows = (SAMPLES / "wechat-trade-bill.csv").read_text(encoding="utf-8").splitlines()[1:9]
    return [(r.split(",")[5].lstrip("`"), r.split(",")[12].lstrip("`")) for r in rows]


async def _gifts(books: Books) -> None:
    for ref, amount in wechat_refs():
        await books.donate("ONLINE", amount, ref)


async def _import(books: Books, csv: str, payout_ref: str, **extra) -> dict:
    i = {
        "fundId": books.fund,
        "source": "PAYMENT_CHANNEL",
        "payoutRef": payout_ref,
        "csv": csv,
        "idempotencyKey": new_key(),
        **extra,
    }
    return (await books.api.data(IMPORT, {"i": i}, token=books.fin))["importStatement"]


def _day(entry: dict) -> date:
    return datetime.fromisoformat(entry["effectiveAt"]).astimezone(SHANGHAI).date()


@pytest.mark.parametrize(
    ("name", "encoding", "day"),
    [
        # A trade bill has no payout row: its last trade's day dates the payout.
        ("wechat-trade-bill.csv", "utf-8", date(2023, 6, 11)),
        # The fund flow bill and Alipay's statement have one (提现): its day.
        ("wechat-fund-flow.csv", "utf-8", date(2023, 6, 12)),
        ("alipay-account-statement.csv", "gb18030", date(2023, 6, 12)),
        ("settlement.csv", "utf-8", date(2023, 6, 11)),
    ],
)
async def test_payout_dated_by_the_file(books: Books, name, encoding, day):
    data = (SAMPLES / name).read_bytes()
    for line in read_statement(data).lines:
        fen = line.amount_fen
        await books.donate("ONLINE", f"{fen // 100}.{fen % 100:02d}", line.reference)
    d = await _import(books, data.decode(encoding), "WXPAYOUT20230612001")
    assert d["errors"] == [] and d["statementImport"]["matchedCount"] == 8
    assert _day(d["statementImport"]["journalEntry"]) == day


async def test_payout_date_given_and_refused_in_a_closed_period(books: Books):
    await _gifts(books)
    close = 'mutation($f:ID!){closePeriod(input:{fundId:$f,through:"2023-06-30"}){errors{code}}}'
    assert (await books.api.data(close, {"f": books.fund}, token=books.fin))["closePeriod"][
        "errors"
    ] == []
    size = await books.journal_size()
    alipay = (SAMPLES / "alipay-account-statement.csv").read_bytes().decode("gb18030")
    trade = (SAMPLES / "wechat-trade-bill.csv").read_text(encoding="utf-8")

    d = await _import(books, trade, "PO-1")
    assert d["statementImport"] is None
    (error,) = d["errors"]
    assert error["code"] == "PERIOD_CLOSED" and error["field"] == ["input", "payoutDate"]
    assert "2023-06-11" in error["message"] and "closed through 2023-06-30" in error["message"]
    assert await books.journal_size() == size
    d = await _import(books, alipay, "PO-1", payoutDate="2023-06-12")
    assert d["errors"][0]["code"] == "PERIOD_CLOSED"  # the Alipay file was never the matter
    assert await books.journal_size() == size

    today = datetime.now(SHANGHAI).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    d = await _import(books, trade, "PO-1", payoutDate=tomorrow)
    assert d["errors"][0]["code"] == "INVALID_INPUT"
    assert d["errors"][0]["field"] == ["input", "payoutDate"]

    d = await _import(books, trade, "PO-1", payoutDate=today.isoformat())
    assert d["errors"] == []
    entry = d["statementImport"]["journalEntry"]
    assert _day(entry) == today and entry["reference"] == "PO-1"
    assert await books.journal_size() == size + 1


async def test_payout_date_is_for_channel_files_and_part_of_the_key(books: Books):
    await _gifts(books)
    bank = (SAMPLES / "bank-statement.csv").read_text(encoding="utf-8")
    i = {
        "fundId": books.fund,
        "source": "BANK",
        "csv": bank,
        "payoutDate": "2023-06-12",
        "idempotencyKey": new_key(),
    }
    d = (await books.api.data(IMPORT, {"i": i}, token=books.fin))["importStatement"]
    assert d["errors"][0]["field"] == ["input", "payoutDate"]

    trade = (SAMPLES / "wechat-trade-bill.csv").read_text(encoding="utf-8")
    key = new_key()
    first = await _import(books, trade, "PO-1", payoutDate="2023-06-12", idempotencyKey=key)
    assert _day(first["statementImport"]["journalEntry"]) == date(2023, 6, 12)
    again = await _import(books, trade, "PO-1", payoutDate="2023-06-12", idempotencyKey=key)
    assert again["statementImport"]["id"] == first["statementImport"]["id"]
    other = await _import(books, trade, "PO-1", payoutDate="2023-06-13", idempotencyKey=key)
    assert other["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"


async def test_a_payout_dated_before_the_donations_it_settles_is_refused_on_its_date(
    books: Books,
):
    # Received 2023-06-01 10:00 (Books.donate), settled by a payout dated the day before.
    await _gifts(books)
    size = await books.journal_size()
    trade = (SAMPLES / "wechat-trade-bill.csv").read_text(encoding="utf-8")
    d = await _import(books, trade, "PO-EARLY", payoutDate="2023-05-31")
    assert d["statementImport"] is None
    (error,) = d["errors"]
    assert error["code"] == "INVALID_INPUT" and error["field"] == ["input", "payoutDate"]
    assert "2023-05-31 is before 8 of the donations it settles" in error["message"]
    assert "2023-06-01T02:00:00+00:00" in error["message"]
    assert await books.journal_size() == size  # nothing written
    # Dated after them, the same file settles.
    d = await _import(books, trade, "PO-EARLY", payoutDate="2023-06-01")
    assert d["errors"] == [] and d["statementImport"]["matchedCount"] == 8
