"""The command line (import-statement, export) and the HTTP exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

import cli
from tests.reconciliation.conftest import Books
from tests.reconciliation.test_imports import _pk


def _today() -> str:
    """Today in the funds' calendar, read when the test runs (a run may cross midnight)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _cli(monkeypatch, db_url: str, *argv: str) -> int:
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    monkeypatch.setenv("JINLIN_SECRET_KEY", "x" * 40)
    return cli.main(list(argv))


async def test_import_statement_command(books: Books, db_url, monkeypatch, tmp_path, capsys):
    await books.donate("ONLINE", "100.00", "WX1")
    await books.donate("ONLINE", "50.00", "WX2")
    path = tmp_path / "settlement.csv"
    # GBK, as Chinese platforms export it, with a reference in Chinese.
    path.write_bytes(
        "date,reference,amount,fee\n2023-06-10,WX1,100.00,0.60\n2023-06-10,中原区-001,5.00,0\n".encode(
            "gbk"
        )
    )
    args = ("import-statement", "etgy", "--source", "payment-channel", str(path))
    assert await _run(monkeypatch, db_url, *args) == 2
    assert "--payout-ref is required" in capsys.readouterr().err

    args = (*args[:-1], "--payout-ref", "PO-1", str(path))
    assert await _run(monkeypatch, db_url, *args) == 0
    out = capsys.readouterr().out
    assert "MATCHED" in out and "UNMATCHED" in out
    # The same file again is the same import: nothing new.
    size = await books.journal_size()
    assert await _run(monkeypatch, db_url, *args) == 0
    assert await books.journal_size() == size
    r = await books.recon()
    assert [line["reference"] for line in r["unmatchedLines"]] == ["中原区-001"]

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"date,reference,amount,balance\n2023-06-10,X,1.00,1.00\n2023-13-10,Y,1,2\n")
    assert (
        await _run(monkeypatch, db_url, "import-statement", "etgy", "--source", "bank", str(bad))
        == 1
    )
    assert "INVALID_STATEMENT: line 2:" in capsys.readouterr().err
    assert (
        await _run(monkeypatch, db_url, "import-statement", "nope", "--source", "bank", str(path))
        == 2
    )


async def _run(monkeypatch, db_url, *argv) -> int:
    import asyncio

    # cli.main runs its own event loop: keep it off the test's loop.
    return await asyncio.to_thread(_cli, monkeypatch, db_url, *argv)


async def test_export_command(books: Books, db_url, monkeypatch, tmp_path, capsys):
    today = _today()
    await books.donate("BANK_TRANSFER", "500.00", "=HYPERLINK(1)", receivedAt=None)  # today
    await books.donate("ONLINE", "12.30", "WX1", receivedAt=None)
    assert (
        await _run(
            monkeypatch,
            db_url,
            "export",
            "etgy",
            "--what",
            "journal",
            "--from",
            today,
            "--to",
            today,
        )
        == 0
    )
    text = capsys.readouterr().out.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["sequence", "effective at", "kind"]
    assert len(rows) == 5
    assert rows[1][3] == "'=HYPERLINK(1)"  # never a formula
    assert rows[1][7] == "500.00" and rows[2][8] == "500.00"

    out = tmp_path / "tb.xlsx"
    argv = ("export", "etgy", "--what", "trial-balance", "--from", today, "--to", today)
    assert (
        await _run(
            monkeypatch, db_url, *argv, "--format", "xlsx", "--lang", "zh", "--output", str(out)
        )
        == 0
    )
    ws = load_workbook(out).active
    values = list(ws.values)[3:]  # below the title rows
    assert values[0][:2] == ("科目代码", "科目名称")
    bank = next(v for v in values if v[0] == "1002")
    assert (
        bank[4] == 500 and ws.cell(row=values.index(bank) + 4, column=5).number_format == "#,##0.00"
    )
    total = values[-1]
    assert total[0] == "合计" and total[6] == total[7]  # closing debits equal credits
    assert (
        await _run(
            monkeypatch,
            db_url,
            "export",
            "etgy",
            "--what",
            "statement",
            "--from",
            today,
            "--to",
            "2000-01-01",
        )
        == 2
    )


async def test_http_exports(books: Books):
    today = _today()
    api = books.api
    await books.donate("BANK_TRANSFER", "500.00", "@SUM(A1)", receivedAt=None)
    url = f"/exports/etgy/journal.csv?from={today}&to={today}"
    assert (await api.http.get(url)).status_code == 401
    staff = await api.user("staff", "COMMUNITY_STAFF", community_id=_pk(books.community))

    assert (await api.http.get(url, headers=_auth(staff))).status_code == 403
    assert (
        await api.http.get(url.replace("etgy", "nope"), headers=_auth(books.fin))
    ).status_code == 404
    assert (
        await api.http.get(url.replace("journal", "ledger"), headers=_auth(books.fin))
    ).status_code == 404
    assert (
        await api.http.get(url.replace(today, "yesterday", 1), headers=_auth(books.fin))
    ).status_code == 400

    r = await api.http.get(url + "&lang=zh", headers=_auth(books.fin))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "凭证号" and rows[1][3] == "'@SUM(A1)" and rows[1][7] == "500.00"

    r = await api.http.get(
        f"/exports/etgy/statement.xlsx?from={today}&to={today}", headers=_auth(books.admin)
    )
    assert r.status_code == 200
    values = list(load_workbook(io.BytesIO(r.content)).active.values)[3:]  # below the titles
    assert values[0] == ("item", "amount")
    assert dict(values[1:])["donations offline"] == 500


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
