"""Official receipts (公益事业捐赠票据): the donor (by the receipt link's key) or the giving
partner asks; FINANCE lists, issues or rejects; nobody else sees who asked."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from resolvers.identity_numbers import normalised, resident_id_ok, usci_ok
from tests.receipts.conftest import receipt_of

REQUEST = "mutation($i:RequestOfficialReceiptInput!){requestOfficialReceipt(input:$i){request{id status requesterName} errors{code field}}}"
DECIDE = "mutation($i:DecideOfficialReceiptInput!){decideOfficialReceipt(input:$i){request{status officialNumber issuedOn} errors{code field}}}"
LIST = "query($s:OfficialReceiptStatus){officialReceiptRequests(status:$s,first:10){edges{node{id status requesterName requesterIdNumber email}}}}"
# Valid by their check characters (GB 11643, GB 32100).
RESIDENT = "11010519491231002X"
USCI = "91350100M000100Y43"


def test_the_check_characters_are_checked():
    assert resident_id_ok(RESIDENT) and usci_ok(USCI)
    assert normalised(RESIDENT.lower()) == RESIDENT
    assert normalised("110105194912310021") is None  # wrong check character
    assert not resident_id_ok("11010519491331002X")  # no 13th month
    assert normalised("91350100M000100Y44") is None
    assert normalised("１１０１０５19491231002X") is None  # full-width digits


@given(st.integers(0, 16), st.sampled_from("0123456789"))
def test_one_changed_digit_breaks_a_resident_number(position, digit):
    changed = RESIDENT[:position] + digit + RESIDENT[position + 1 :]
    assert resident_id_ok(changed) == (changed == RESIDENT)


def _request(receipt: str, key: str | None, **extra) -> dict:
    i = {"receipt": receipt, "name": "张三丰", "idNumber": RESIDENT, "email": "zs@example.cn"}
    return {"i": i | ({"key": key} if key else {}) | extra}


async def test_donor_asks_finance_issues_and_nobody_else_sees_who(world):
    gift = (await world.donate("BANK_TRANSFER", "500.00"))["donation"]["id"]
    receipt = await receipt_of(world.api, gift, world.fin)
    key = receipt["url"].split("key=")[1]
    # Without the key (or with another's), the receipt is not there.
    bare = await world.api.data(REQUEST, _request(receipt["number"], None))
    assert bare["requestOfficialReceipt"]["errors"][0]["code"] == "NOT_FOUND"
    wrong = await world.api.data(REQUEST, _request(receipt["number"], "x" * 40))
    assert wrong["requestOfficialReceipt"]["errors"][0]["code"] == "NOT_FOUND"
    bad_id = await world.api.data(REQUEST, _request(receipt["number"], key, idNumber="123"))
    assert bad_id["requestOfficialReceipt"]["errors"][0]["field"] == ["input", "idNumber"]
    asked = (await world.api.data(REQUEST, _request(receipt["number"], key)))[
        "requestOfficialReceipt"
    ]
    assert asked["errors"] == [] and asked["request"]["status"] == "REQUESTED"
    again = (await world.api.data(REQUEST, _request(receipt["number"], key)))[
        "requestOfficialReceipt"
    ]
    assert again["request"]["id"] == asked["request"]["id"]  # the same request, answered again
    other = await world.api.data(REQUEST, _request(receipt["number"], key, name="李四"))
    assert other["requestOfficialReceipt"]["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"

    for token in (None, world.staff, world.partner):
        listed = await world.api.execute(LIST, {"s": "REQUESTED"}, token=token)
        assert listed["data"] is None or listed["data"]["officialReceiptRequests"] is None
        assert "张三丰" not in str(listed) and RESIDENT not in str(listed)
    listed = await world.api.data(LIST, {"s": "REQUESTED"}, token=world.fin)
    (edge,) = listed["officialReceiptRequests"]["edges"]
    assert edge["node"]["requesterIdNumber"] == RESIDENT

    issue = {
        "requestId": edge["node"]["id"],
        "officialNumber": "豫财01-0012345",
        "issuedOn": "2026-11-30",
    }
    staff = await world.api.data(DECIDE, {"i": issue}, token=world.staff)
    assert staff["decideOfficialReceipt"]["errors"][0]["code"] == "FORBIDDEN"
    done = (await world.api.data(DECIDE, {"i": issue}, token=world.fin))["decideOfficialReceipt"]
    assert done["request"] == {
        "status": "ISSUED",
        "officialNumber": "豫财01-0012345",
        "issuedOn": "2026-11-30",
    }
    twice = (await world.api.data(DECIDE, {"i": issue}, token=world.fin))["decideOfficialReceipt"]
    assert twice["errors"][0]["code"] == "INVALID_STATE"
    assert date.fromisoformat(done["request"]["issuedOn"]) <= date.today()


async def test_the_giving_partner_asks_without_a_key_and_a_rejected_request_may_come_again(world):
    gift = (await world.donate("BANK_TRANSFER", "80.00", partnerId=world.partner_id))["donation"][
        "id"
    ]
    number = (await receipt_of(world.api, gift, world.fin))["number"]
    company = _request(number, None, name="浦发银行百花路支行", idNumber=USCI)
    asked = (await world.api.data(REQUEST, company, token=world.partner))["requestOfficialReceipt"]
    assert asked["errors"] == [], asked
    reject = {"requestId": asked["request"]["id"], "rejectReason": "抬头有误"}
    done = (await world.api.data(DECIDE, {"i": reject}, token=world.fin))["decideOfficialReceipt"]
    assert done["request"]["status"] == "REJECTED"
    again = (await world.api.data(REQUEST, company, token=world.partner))["requestOfficialReceipt"]
    assert again["errors"] == [] and again["request"]["id"] != asked["request"]["id"]
