"""`jinlin publish-roots` and `jinlin verify-receipt`, run as from a shell (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

from cli import main
from tests.receipts.conftest import receipt_of, today


async def test_publish_then_check_a_saved_proof(
    world, db_url, tomorrow, monkeypatch, capsys, tmp_path
):
    gift = (await world.donate(amount="66.00"))["donation"]["id"]
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    monkeypatch.setenv("JINLIN_SECRET_KEY", "x" * 40)
    day = today(world.api)
    assert await asyncio.to_thread(main, ["publish-roots", "--day", day]) == 0
    out = capsys.readouterr().out
    assert f"ETGY {day}: 1 entries, root " in out and f"BH {day}: 0 entries" in out
    # The default day is the clock's yesterday (the fixture's clock is two days on).
    assert await asyncio.to_thread(main, ["publish-roots", "ETGY"]) == 0
    after = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    assert f"ETGY {after}: 0 entries" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["publish-roots", "--day", "2020-01-01"]) == 1
    assert "ETGY: the fund did not exist on that day" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["publish-roots", "NOPE"]) == 2
    number = (await receipt_of(world.api, gift, world.fin))["number"]
    doc = (await world.api.http.get(f"/verify/{number}.json")).json()
    good = tmp_path / "proof.json"
    good.write_text(json.dumps(doc), encoding="utf-8")
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["verify-receipt", str(good)]) == 0
    assert f"ok {number}" in capsys.readouterr().out
    doc["entry"]["hash"] = "0" * 64
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    assert await asyncio.to_thread(main, ["verify-receipt", str(bad)]) == 1
    assert f"FAIL {number}" in capsys.readouterr().out
    (tmp_path / "junk.json").write_text("[1, 2", encoding="utf-8")
    assert await asyncio.to_thread(main, ["verify-receipt", str(tmp_path / "junk.json")]) == 2
