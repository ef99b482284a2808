"""The receipt PDF, read back with poppler and zbar: one A5 page whose QR code decodes
to the verify address, the amounts in figures and capitals, 作废 once refunded."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from resolvers.capital_numerals import capital_amount
from tests.receipts.conftest import receipt_of

TOOLS = ("pdftoppm", "pdftotext", "pdfinfo", "pdffonts", "zbarimg")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="poppler-utils and zbar-tools are missing (bash scripts/browser-deps.sh)",
)
REFUND = """mutation($d: ID!) { refundDonation(input: {donationId: $d, reason: "donor asked",
  idempotencyKey: "refund-1"}) { errors { code } } }"""


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


async def _pdf(world, donation_id: str, tmp_path, name: str):
    receipt = await receipt_of(world.api, donation_id, world.fin)
    response = await world.api.http.get(receipt["url"])
    assert response.status_code == 200
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(response.content)
    return receipt, path


async def test_the_qr_code_leads_to_the_verify_page(world, tmp_path):
    gift = (await world.donate(amount="123.45", donorName="张三丰"))["donation"]["id"]
    receipt, pdf = await _pdf(world, gift, tmp_path, "r")
    info = _run("pdfinfo", str(pdf))
    assert re.search(r"^Pages:\s+1$", info, re.M)
    # A5 is 148 x 210 mm: 419.528 x 595.276 pt.
    assert re.search(r"^Page size:\s+419.5\d* x 595.2\d* pts", info, re.M)
    fonts = _run("pdffonts", str(pdf))
    assert re.search(r"WenQuanYiZenHei\S*\s+TrueType\s+\S+\s+yes yes yes", fonts)
    _run("pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "page"))
    decoded = _run("zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")).strip()
    assert decoded == "http://test" + receipt["verifyUrl"]
    text = _run("pdftotext", "-layout", str(pdf), "-")
    assert receipt["number"] in text
    assert capital_amount(12345) in text and "¥123.45" in text
    assert "张三丰" in text and "郑州市慈善总会" in text and "现金" in text
    assert "作废" not in text


async def test_an_anonymous_gift_and_a_refunded_one(world, tmp_path):
    gift = (await world.donate(amount="50.00", anonymous=True, donorName="隐名者"))["donation"]
    text = _run("pdftotext", str((await _pdf(world, gift["id"], tmp_path, "a"))[1]), "-")
    assert "匿名" in text and "隐名者" not in text and capital_amount(5000) in text
    body = await world.api.data(REFUND, {"d": gift["id"]}, token=world.fin)
    assert body["refundDonation"]["errors"] == []
    text = _run("pdftotext", str((await _pdf(world, gift["id"], tmp_path, "v"))[1]), "-")
    assert "作废" in text
