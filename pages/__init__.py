"""Server-rendered pages on top of the GraphQL API: the festival live board and the
public fund disclosure page.

The pages are a client of the API, not a second way into the data: every figure
comes from executing the public GraphQL operations in-process through the same
schema, so what a page shows equals what /graphql answers, to the fen, and never
more than the public report. The exceptions are the board's campaign name and
goal, which no public operation exposes (a campaign belongs to a private fund),
read from the campaign row, and the board's latest donations, which are the
campaign's own (the public report lists the whole fund's), masked as the public
report masks them (pages/board_feed.py).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from db.models import CampaignRow, FundRow
from db.uow import read_session
from pages.board_feed import campaign_recent
from pages.cached import cached_page
from resolvers.errors import UseCaseError
from resolvers.ids import decode_id
from resolvers.public_reads import reads_of
from resolvers.validation import within_calendar
from schema import build_schema
from schema.context import AppState, Context

HERE = Path(__file__).resolve().parent
RECENT = 8

CHANNEL_LABELS = {
    "ONLINE": "线上",
    "CASH": "现金",
    "CHARITY_SALE": "义卖",
    "BANK_TRANSFER": "银行转账",
    "IN_KIND": "物资",
}

PROGRESS_QUERY = """
subscription Progress($id: ID!) {
  campaignProgress(campaignId: $id) {
    online { amount currency } offline { amount currency } inKind { amount currency }
    total { amount currency } donationCount
  }
}"""

REPORT_QUERY = """
query Report($code: String!, $from: Date!, $to: Date!, $first: Int) {
  publicFundReport(code: $code) {
    code name host
    balances {
      total { amount currency } cashOnHand { amount } bank { amount }
      onlineClearing { amount } inKind { amount } available { amount }
    }
    statement(from: $from, to: $to) {
      from to
      opening { amount currency } donationsOnline { amount } donationsOffline { amount }
      donationsInKind { amount } refunds { amount } disbursements { amount } fees { amount }
      otherCosts { amount } closing { amount }
    }
    recentDonations(first: $first) { donorName amount { amount currency } channel receivedAt }
    roots(first: 7) { day treeSize merkleRoot root }
  }
}"""


DISCLOSURE_QUERY = """
query Disclosure($code: String!, $from: Date!, $to: Date!) {
  fundDisclosure(code: $code, from: $from, to: $to) {
    from to
    lines { project income { amount } spending { amount } balance { amount } }
    income { amount } spending { amount } balance { amount }
  }
}"""


def yuan(amount: str | Decimal | None) -> str:
    """'1234567.5' -> '1,234,567.50': exact Decimal formatting, never through a float."""
    if amount is None:
        return "—"
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:,.2f}"


def fen_to_amount(fen: int | None) -> str | None:
    return None if fen is None else str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter holding `day`, as (first day, last day)."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    after = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return date(day.year, first_month, 1), after - timedelta(days=1)


class Pages:
    def __init__(self, state: AppState):
        self.state = state
        # Its own schema instance, built like the endpoint's, so the pages go through
        # the same extensions (limits, error codes) as any other client.
        self.schema = build_schema(production=state.production)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        env = self.templates.env
        env.filters["yuan"] = yuan
        env.filters["channel"] = lambda c: CHANNEL_LABELS.get(c, c)
        env.filters["clock"] = self._clock
        env.globals["tz_name"] = str(state.timezone)

    def _clock(self, iso: str) -> str:
        moment = datetime.fromisoformat(iso).astimezone(self.state.timezone)
        return moment.strftime("%m-%d %H:%M")

    def _context(self) -> Context:
        return Context(app=self.state)  # anonymous: the pages show only what is public

    async def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        result = await self.schema.execute(query, variables, context_value=self._context())
        if result.errors:
            raise PageQueryError(result.errors)
        return result.data or {}

    async def _first_progress(self, campaign_id: str) -> dict[str, Any] | None:
        """The subscription's first emission: the same numbers the board's socket will send."""
        stream = await self.schema.subscribe(
            PROGRESS_QUERY, {"id": campaign_id}, context_value=self._context()
        )
        if not hasattr(stream, "__anext__"):
            return None
        try:
            first = await anext(stream)
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
        return None if first.errors else first.data["campaignProgress"]

    def _render(self, request: Request, template: str, status: int = 200, **context) -> Response:
        return self.templates.TemplateResponse(request, template, context, status_code=status)

    def not_found(self, request: Request, what: str) -> Response:
        return self._render(request, "404.html", 404, what=what)

    async def _campaign(self, campaign_id: str) -> tuple[CampaignRow, FundRow] | None:
        try:
            pk = decode_id(campaign_id, "Campaign", field="campaignId")
        except UseCaseError:
            return None
        async with read_session(self.state.read_engine) as session:
            campaign = await session.get(CampaignRow, pk)
            fund = await session.get(FundRow, campaign.fund_id) if campaign else None
        return None if campaign is None or fund is None else (campaign, fund)

    async def _recent(self, campaign: CampaignRow, fund: FundRow) -> list[dict[str, Any]]:
        return await campaign_recent(
            self.state.read_engine, campaign.id, RECENT, self.state.timezone, fund.currency
        )

    async def _cached(self, request: Request, key: tuple, fund: int | None, render) -> Response:
        """The page from the cache of public reads when its fund is known, with an ETag."""
        reads = reads_of(self.state)
        if reads is None or fund is None:
            return await render()
        return await cached_page(request, reads, self.state.read_engine, key, (fund,), render)

    async def _campaign_fund(self, campaign_id: str) -> tuple[int, int | None] | None:
        """The campaign's key and its fund's (None when unknown or not a campaign id)."""
        try:
            pk = decode_id(campaign_id, "Campaign", field="campaignId")
        except UseCaseError:
            return None
        reads = reads_of(self.state)
        return pk, await reads.fund_of(self.state.read_engine, "campaign", pk) if reads else None

    async def board_recent(self, request: Request) -> Response:
        """The board's 最新捐赠 as JSON, refetched by board.js after each emission."""
        campaign_id = request.path_params["campaign_id"]
        found = await self._campaign_fund(campaign_id)
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        render = lambda: self._board_recent(campaign_id)  # noqa: E731
        return await self._cached(request, ("board:recent", found[0]), found[1], render)

    async def _board_recent(self, campaign_id: str) -> Response:
        found = await self._campaign(campaign_id)
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse({"recentDonations": await self._recent(*found)})

    async def board(self, request: Request) -> Response:
        campaign_id = request.path_params["campaign_id"]
        found = await self._campaign_fund(campaign_id)
        if found is None:
            return self.not_found(request, "活动")
        render = lambda: self._board(request, campaign_id)  # noqa: E731
        return await self._cached(request, ("page:board", found[0]), found[1], render)

    async def _board(self, request: Request, campaign_id: str) -> Response:
        found = await self._campaign(campaign_id)
        if found is None:
            return self.not_found(request, "活动")
        campaign, fund = found
        progress = await self._first_progress(campaign_id)
        return self._render(
            request,
            "board.html",
            campaign_id=campaign_id,
            name=campaign.name,
            fund_name=fund.name,
            fund_code=fund.code,
            goal=fen_to_amount(campaign.goal_fen),
            progress=progress,
            ratio=_ratio(progress, campaign.goal_fen),
            recent=await self._recent(campaign, fund),
            recent_count=RECENT,
        )

    async def fund(self, request: Request) -> Response:
        code = request.path_params["code"]
        today = datetime.now(self.state.timezone).date()
        default_from, default_to = quarter_of(today)
        try:
            start = _date_param(request, "from", default_from)
            end = _date_param(request, "to", default_to)
        except ValueError:
            return self._render(request, "error.html", 400, message="日期格式应为 YYYY-MM-DD")
        reads = reads_of(self.state)
        key = code.strip().upper()
        fund = await reads.fund_of(self.state.engine, "code", key) if reads else None
        render = lambda: self._fund(request, code, today, start, end)  # noqa: E731
        return await self._cached(request, ("page:fund", key, today, start, end), fund, render)

    async def _fund(self, request: Request, code: str, today: date, start: date, end: date):
        try:
            period = {"from": start.isoformat(), "to": end.isoformat()}
            data = await self._query(REPORT_QUERY, {"code": code, **period, "first": 10})
        except PageQueryError as exc:
            if exc.code == "NOT_FOUND":
                return self.not_found(request, "基金")
            if exc.code == "INVALID_INPUT":
                return self._render(
                    request, "error.html", 400, message="查询期间无效：" + exc.message
                )
            raise
        report = data.get("publicFundReport")
        if report is None:
            return self.not_found(request, "基金")
        disclosure = await self._query(DISCLOSURE_QUERY, {"code": code, **period})
        statement = report["statement"]
        this_q = quarter_of(today)
        last_q = quarter_of(this_q[0] - timedelta(days=1))
        return self._render(
            request,
            "fund.html",
            report=report,
            statement=statement,
            chart=statement_chart(statement),
            periods=[
                ("本季度", this_q),
                ("上季度", last_q),
                ("今年", (date(today.year, 1, 1), date(today.year, 12, 31))),
            ],
            start=start,
            end=end,
            disclosure=disclosure["fundDisclosure"],
        )


class PageQueryError(Exception):
    def __init__(self, errors: list):
        first = errors[0]
        self.message = first.message
        self.code = (getattr(first, "extensions", None) or {}).get("code")
        super().__init__(self.message)


def _date_param(request: Request, name: str, default: date) -> date:
    raw = request.query_params.get(name)
    day = date.fromisoformat(raw) if raw else default
    if not within_calendar(day):  # the Date scalar's range: the query would refuse it
        raise ValueError(f"{name} is outside the years 0002 to 9998")
    return day


def _ratio(progress: dict | None, goal_fen: int | None) -> float:
    """Share of the goal reached, for the bar's width only (the figures stay Decimal)."""
    if not progress or not goal_fen:
        return 0.0
    return float(min(Decimal(progress["total"]["amount"]) * 100 / goal_fen, Decimal(1)))


def statement_chart(statement: dict[str, Any]) -> dict[str, Any]:
    """Geometry for a plain SVG: income by channel and spending by purpose, on one
    scale so their sizes compare. x positions and widths are percentages of the width."""
    groups = [
        (
            "收入（按渠道）",
            [
                ("线上捐赠", statement["donationsOnline"]["amount"], "online"),
                ("线下捐赠", statement["donationsOffline"]["amount"], "offline"),
                ("物资捐赠", statement["donationsInKind"]["amount"], "inkind"),
            ],
        ),
        (
            "支出（按用途）",
            [
                ("项目支出", statement["disbursements"]["amount"], "spend"),
                ("渠道手续费", statement["fees"]["amount"], "spend"),
                ("其他费用", statement["otherCosts"]["amount"], "spend"),
                ("退款", statement["refunds"]["amount"], "spend"),
            ],
        ),
    ]
    bar_x, bar_max, row_h, head_h = 26, 48, 30, 30
    largest = max(abs(Decimal(a)) for _, rows in groups for _, a, _ in rows)
    y = 0
    out = []
    for title, rows in groups:
        y += head_h
        bars = []
        for label, amount, kind in rows:
            # a negative figure (cash over) is drawn by its size and labelled with its sign
            width = float(abs(Decimal(amount)) / largest * bar_max) if largest else 0.0
            bars.append(
                {
                    "label": label,
                    "amount": amount,
                    "kind": kind,
                    "y": y - 8,
                    "width": round(width, 2),
                    "value_x": round(bar_x + width + 1.5, 2),
                }
            )
            y += row_h
        out.append({"title": title, "y": bars[0]["y"] - 10, "bars": bars})
        y += 10
    return {"groups": out, "height": y, "bar_x": bar_x}


def routes(state: AppState) -> list:
    from functools import partial

    from pages.verify import verify_page
    from resolvers.receipts_http import routes as receipt_routes

    pages = Pages(state)
    return [
        Route("/board/{campaign_id}", pages.board, methods=["GET"]),
        Route("/board/{campaign_id}/recent.json", pages.board_recent, methods=["GET"]),
        Route("/funds/{code}", pages.fund, methods=["GET"]),
        *receipt_routes(state),  # /receipts/{n}.pdf and /verify/{n}.json, before /verify/{n}
        Route("/verify/{number}", partial(verify_page, pages), methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
