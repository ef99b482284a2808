"""The command line for the month (reconcile, resolve-line, statement-formats, and
import-statement on real formats), against a real database."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import cli
from tests.reconciliation.conftest import Books

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def _cli(monkeypatch, db_url: str, argv: tuple[str, ...]) -> int:
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    monkeypatch.setenv("JINLIN_SECRET_KEY", "x" * 40)
    return cli.main(list(argv))


async def run(monkeypatch, db_url, capsys, *argv: str) -> tuple[int, str, str]:
    """Exit status, standard output and standard error of one command."""
    # cli.main runs its own event loop: keep it off the test's loop.
    code = await asyncio.to_thread(_cli, monkeypatch, db_url, argv)
    out, err = capsys.readouterr()
    return code, out, err


async def run_json(monkeypatch, db_url, capsys, *argv: str) -> tuple[int, dict]:
    code, out, _ = await run(monkeypatch, db_url, capsys, *argv, "--json")
    return code, json.loads(out)


async def test_a_bank_xlsx_reconciled_and_resolved_from_the_command_line(
    books: Books, db_url, monkeypatch, capsys
):
    await books.donate("BANK_TRANSFER", "2000.00", "ZZTRF20230610-0231")
    await books.donate("ONLINE", "30.00", "WX-OPEN")
    ccb = str(SAMPLES / "ccb-account-details.xlsx")

    # No --source: the XLSX's header says it is CCB's bank statement.
    code, imp = await run_json(monkeypatch, db_url, capsys, "import-statement", "etgy", ccb)
    assert code == 0, imp
    assert (imp["format"], imp["source"], imp["lines"]) == ("ccb", "BANK", 6)
    assert imp["byStatus"]["MATCHED"] == 1 and imp["byStatus"]["UNMATCHED"] == 5
    assert imp["closingBalance"] == "12774.77"

    code, r = await run_json(monkeypatch, db_url, capsys, "reconcile", "ETGY")
    assert code == 0
    assert (r["ledgerBank"], r["statementBank"], r["bankAgrees"]) == ("2000.00", "12774.77", False)
    assert r["onlineClearing"] == "30.00" and r["onlineAgrees"] is True
    assert r["unsettledDonations"] == {"count": 1, "total": "30.00"}
    assert r["balanced"] is False
    open_lines = {line["reference"]: line for line in r["linesNeedingAttention"]}
    assert set(open_lines) == {
        "DEP-20230611-01",
        "WXPAYOUT20230612001",
        "PAY-20230615-01",
        "中原区-001",
        "PAY-20230620-01",
    }
    deposit = open_lines["DEP-20230611-01"]
    assert deposit["line"] == f"{imp['importId']}:2" and deposit["amount"] == "1286.50"

    # The table a person reads says the same.
    code, out, _ = await run(monkeypatch, db_url, capsys, "reconcile", "etgy")
    assert code == 0
    assert "differs" in out and "not balanced" in out and "5 lines need attention" in out
    assert deposit["line"] in out and "1286.50" in out

    # Money in nobody can name yet goes to suspense; a payment is explained by a note.
    code, res = await run_json(
        monkeypatch, db_url, capsys, "resolve-line", deposit["line"], "--suspense"
    )
    assert code == 0 and res["status"] == "RESOLVED" and res["resolution"] == "SUSPENSE"
    assert res["entryId"] is not None
    assert (await books.balances())["1002"] == Decimal("3286.50")
    payment = open_lines["PAY-20230615-01"]["line"]
    note = "paid from the subdistrict's account"
    argv = ("resolve-line", payment, "--ignore", "--note", note)
    code, res = await run_json(monkeypatch, db_url, capsys, *argv)
    assert code == 0 and (res["resolution"], res["note"], res["entryId"]) == ("IGNORE", note, None)
    # The same command again is the same resolution, not an error.
    size = await books.journal_size()
    code, again = await run_json(monkeypatch, db_url, capsys, *argv)
    assert code == 0 and again == res
    assert await books.journal_size() == size

    code, r = await run_json(monkeypatch, db_url, capsys, "reconcile", "etgy")
    assert r["ledgerBank"] == "3286.50" and len(r["linesNeedingAttention"]) == 3

    # The suspense booking taken back: the line needs attention again, the money is out
    # of the bank and of suspense; the same command again is the same answer.
    argv = ("reopen-line", deposit["line"], "--reason", "the bank will explain it")
    code, res = await run_json(monkeypatch, db_url, capsys, *argv)
    assert code == 0 and res["status"] == "UNMATCHED"
    assert (await books.balances())["1002"] == Decimal("2000.00")
    code, again = await run_json(monkeypatch, db_url, capsys, *argv)
    assert code == 0 and again == res
    code, r = await run_json(monkeypatch, db_url, capsys, "reconcile", "etgy")
    assert r["ledgerBank"] == "2000.00" and len(r["linesNeedingAttention"]) == 4
    code, _out, err = await run(
        monkeypatch, db_url, capsys, "reopen-line", payment, "--reason", " "
    )
    assert code == 2 and "--reason" in err


async def test_resolve_line_refusals(books: Books, db_url, monkeypatch, capsys):
    await books.donate("BANK_TRANSFER", "2000.00", "ZZTRF20230610-0231")
    bank = str(SAMPLES / "abc-account-details.csv")
    code, imp = await run_json(monkeypatch, db_url, capsys, "import-statement", "etgy", bank)
    assert code == 0 and imp["format"] == "abc"
    matched = f"{imp['importId']}:1"
    payment = f"{imp['importId']}:4"

    code, out = await run_json(
        monkeypatch, db_url, capsys, "resolve-line", matched, "--ignore", "--note", "x"
    )
    assert code == 1 and out["error"]["code"] == "INVALID_STATE"
    code, out = await run_json(monkeypatch, db_url, capsys, "resolve-line", payment, "--suspense")
    assert code == 1 and out["error"]["code"] == "INVALID_INPUT"
    assert "money in" in out["error"]["message"]
    code, _, err = await run(monkeypatch, db_url, capsys, "resolve-line", payment, "--ignore")
    assert code == 2 and "--note" in err
    code, _, err = await run(monkeypatch, db_url, capsys, "resolve-line", "4", "--ignore")
    assert code == 2 and "IMPORT:LINE_NO" in err
    code, out = await run_json(
        monkeypatch, db_url, capsys, "resolve-line", "99999:1", "--ignore", "--note", "x"
    )
    assert code == 1 and out["error"]["code"] == "NOT_FOUND"
    code, _, err = await run(monkeypatch, db_url, capsys, "reconcile", "nope")
    assert code == 2 and "no fund with code nope" in err


async def test_channel_files_on_the_command_line(books: Books, db_url, monkeypatch, capsys):
    from reconciliation.detect import read_statement

    flows = SAMPLES / "wechat-fund-flow.csv"
    for line in read_statement(flows.read_bytes()).lines:
        fen = line.amount_fen
        await books.donate("ONLINE", f"{fen // 100}.{fen % 100:02d}", line.reference)

    code, _, err = await run(monkeypatch, db_url, capsys, "import-statement", "etgy", str(flows))
    assert code == 2 and "--payout-ref is required" in err
    argv = ("import-statement", "etgy", "--payout-ref", "WXPAYOUT20230612001", str(flows))
    code, out, _ = await run(monkeypatch, db_url, capsys, *argv)
    assert code == 0
    assert "wechat-funds" in out and "dated 2023-06-12" in out  # the fund flow's 提现 row
    assert (await books.balances())["1002"] == Decimal("1048.27")

    # A bank statement given as a channel file is refused saying what it is.
    bank = str(SAMPLES / "boc-transaction-details.csv")
    argv = ("import-statement", "etgy", "--source", "payment-channel", "--payout-ref", "P")
    code, out = await run_json(monkeypatch, db_url, capsys, *argv, bank)
    assert code == 1 and out["error"]["code"] == "INVALID_STATEMENT"
    assert "boc" in out["error"]["message"] and "not PAYMENT_CHANNEL" in out["error"]["message"]

    code, _, err = await run(
        monkeypatch, db_url, capsys, "import-statement", "etgy", "--payout-date", "12/06", bank
    )
    assert code == 2 and "--payout-date" in err


async def test_unknown_layout_on_the_command_line(
    books: Books, db_url, monkeypatch, capsys, tmp_path
):
    del books
    path = tmp_path / "bill.csv"
    path.write_text("微信支付账单明细\n交易日,金额\n2023-06-10,1\n", encoding="utf-8")
    code, _, err = await run(monkeypatch, db_url, capsys, "import-statement", "etgy", str(path))
    assert code == 1
    assert "INVALID_STATEMENT" in err and "tried: wechat-trade" in err
    assert "header found: '微信支付账单明细'" in err


async def test_statement_formats_lists_user_profiles_first(db_url, monkeypatch, capsys, tmp_path):
    (tmp_path / "zybank.toml").write_text(
        'title = "中原银行"\nkind = "bank"\n[columns]\ndate = "记账日期"\n'
        'reference = "附言"\namount = "发生额"\nbalance = "余额"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JINLIN_STATEMENT_PROFILES", str(tmp_path))
    code, out = await run_json(monkeypatch, db_url, capsys, "statement-formats")
    assert code == 0 and out["problems"] == []
    names = [f["name"] for f in out["formats"]]
    assert names[0] == "zybank"
    assert {"wechat-trade", "wechat-funds", "alipay", "icbc", "ccb", "boc", "abc"} <= set(names)
    assert {"jinlin-settlement", "jinlin-bank"} <= set(names)

    (tmp_path / "bad.toml").write_text("kind = 1\n", encoding="utf-8")
    code, out, _ = await run(monkeypatch, db_url, capsys, "statement-formats")
    assert code == 1 and "bad.toml" in out and "zybank" in out
