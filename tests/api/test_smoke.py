from tests.api.client import new_key


async def test_festival_day_smoke(api):
    admin = await api.user("admin", "ADMIN")
    fin = await api.user("fin", "FINANCE")
    d = await api.data(
        'mutation{createSubdistrict(input:{name:"建设路街道",district:"中原区"}){subdistrict{id name} errors{code message field}}}',
        token=admin,
    )
    sub = d["createSubdistrict"]["subdistrict"]["id"]
    d = await api.data(
        'mutation($s:ID!){createCommunity(input:{subdistrictId:$s,name:"儿童公园社区",grids:["一网格","二网格"]}){community{id grids{name}} errors{code}}}',
        {"s": sub},
        token=admin,
    )
    com = d["createCommunity"]["community"]["id"]
    d = await api.data(
        'mutation($c:ID!){openFund(input:{code:"etgy",name:"儿童公园社区慈善基金",level:COMMUNITY,host:"郑州市慈善总会",communityId:$c}){fund{id code} errors{code message}}}',
        {"c": com},
        token=admin,
    )
    fund = d["openFund"]["fund"]["id"]
    q = "mutation($i:RecordDonationInput!){recordDonation(input:$i){donation{id status amount{amount currency}} errors{code message field}}}"
    d = await api.data(
        q,
        {
            "i": {
                "fundId": fund,
                "channel": "CASH",
                "amount": {"amount": "100.00", "currency": "CNY"},
                "donorName": "张三丰",
                "idempotencyKey": new_key(),
            }
        },
        token=fin,
    )
    assert d["recordDonation"]["errors"] == [], d
    d = await api.data(
        "query($f:ID!){node(id:$f){... on Fund{balances{total{amount} cashOnHand{amount} available{amount}}}}}",
        {"f": fund},
        token=fin,
    )
    assert d["node"]["balances"]["total"]["amount"] == "100.00"
