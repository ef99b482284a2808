"""GET /exports/{fund_code}/{what}.{csv|xlsx|pdf}?from=YYYY-MM-DD&to=YYYY-MM-DD[&lang=zh]
and GET /exports/{fund_code}/disclosure.xlsx[?from=…&to=…].

The books (journal, trial-balance, balance-sheet, activities, cash-flow, statement) are
for FINANCE and ADMIN: with `Authorization: Bearer <token>`, or with a signed link's
`token` parameter (reports/links.py, from the fundReport query). 401 without valid
credentials, 403 for other roles, 404 for an unknown fund or export, 400 for bad
input. The disclosure is public, like the /funds/{code} page; its period defaults to
the current quarter.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from db.models import UserRow
from db.uow import read_session
from ledger.errors import LedgerError, NotFound
from reports import disclosure as public
from reports.heading import Heading
from reports.links import LinkFile, link_holder
from reports.xlsx import write_xlsx
from resolvers import exports
from resolvers.auth import Action, Viewer, allowed
from resolvers.errors import UseCaseError
from resolvers.funds import check_period, public_fund
from resolvers.users import viewer_from_token, viewer_of

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
NO_SUCH_EXPORT = (
    "no such export: use journal, trial-balance, balance-sheet, activities, cash-flow or"
    " statement, as .csv, .xlsx or .pdf"
)


def _error(status: int, message: str, **headers: str) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _dates(request: Request, default: tuple[date, date] | None = None) -> tuple[date, date]:
    """from and to; ValueError when either is missing (without a default) or not a date."""
    raw_from, raw_to = request.query_params.get("from"), request.query_params.get("to")
    if default is not None and raw_from is None and raw_to is None:
        return default
    return date.fromisoformat(raw_from or ""), date.fromisoformat(raw_to or "")


def _attachment(name: str, fmt: str) -> dict[str, str]:
    return {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}.{fmt}",
        "Cache-Control": "no-store",
    }


async def _link_viewer(state, token: str, file: LinkFile) -> Viewer | None:
    holder = link_holder(token, file, state.keys.secret)
    if holder is None:
        return None
    async with read_session(state.engine) as session:
        user = await session.get(UserRow, holder[0])
    # A password change or sign-out everywhere (token version) voids links too.
    if user is None or (user.token_version or 0) != holder[1]:
        return None
    return viewer_of(user)


async def _disclosure(state, request: Request, code: str) -> Response:
    """The public disclosure's XLSX; the period defaults to the current quarter."""
    today = datetime.now(state.timezone).date()
    try:
        start, end = _dates(request, public.quarter_of(today))
        check_period(start, end)
    except ValueError:
        return _error(400, "from and to must be dates, YYYY-MM-DD")
    except UseCaseError as exc:
        return _error(400, exc.message)
    fund = await public_fund(state.engine, code)
    if fund is None:
        return _error(404, "no such fund")
    path = await disclosure_file(state, fund, start, end)
    headers = _attachment(f"{fund.code}-disclosure-{start}-{end}", "xlsx")
    headers["Cache-Control"] = "no-cache"
    return StreamingResponse(exports.file_stream(path), media_type=MEDIA["xlsx"], headers=headers)


async def _file(state, req: exports.ExportRequest, fmt: str) -> Response:
    """The report's response; its figures are read before the first byte is sent."""
    doc = await req.document(state.engine)
    headers = _attachment(req.filename, fmt)
    if fmt == "pdf":
        pdf = await exports.pdf_bytes(state.engine, req, doc)
        return Response(pdf, media_type=MEDIA[fmt], headers=headers)
    if fmt == "csv":
        body = exports.csv_stream(state.engine, req, doc)
    else:
        body = exports.file_stream(await exports.xlsx_file(state.engine, req, doc))
    return StreamingResponse(body, media_type=MEDIA[fmt], headers=headers)


def routes(state) -> list[Route]:
    """The export routes, bound to the app's state (engine, token keys, time zone)."""

    async def viewer_for(request: Request, file: LinkFile) -> Viewer | None:
        link_token = request.query_params.get("token")
        if link_token:
            return await _link_viewer(state, link_token, file)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return await viewer_from_token(state.engine, token.strip(), state.keys)
        return None

    async def export(request: Request) -> Response:
        code = request.path_params["fund_code"].strip().upper()
        what, dot, fmt = request.path_params["filename"].rpartition(".")
        if (what, fmt) == ("disclosure", "xlsx"):
            return await _disclosure(state, request, code)
        lang = request.query_params.get("lang", "en")
        try:
            start, end = _dates(request)
        except ValueError:
            start = end = None
        file = LinkFile(code, what, fmt, start or date.min, end or date.min, lang)
        viewer = await viewer_for(request, file)
        if viewer is None:
            return _error(
                401,
                "sign in first: this needs a valid bearer token or download link",
                **{"WWW-Authenticate": "Bearer"},
            )
        if not allowed(viewer, Action.RECONCILE):
            return _error(403, "exports are for finance staff")
        if not dot or what not in exports.WHATS or fmt not in exports.FORMATS:
            return _error(404, NO_SUCH_EXPORT)
        if start is None or end is None:
            return _error(400, "from and to must be dates, YYYY-MM-DD")
        try:
            exports.check_request(what, fmt, start, end, lang)
            fund = await exports.fund_by_code(state.engine, viewer, code)
        except UseCaseError as exc:
            return _error(400, exc.message)
        if fund is None:
            return _error(404, "no such fund")
        req = exports.ExportRequest(fund, what, start, end, lang, state.timezone)
        try:
            return await _file(state, req, fmt)
        except LedgerError as exc:  # e.g. flows that disagree with the ledger's statement
            return _error(404 if isinstance(exc, NotFound) else 409, exc.message)

    return [Route("/exports/{fund_code}/{filename}", export, methods=["GET"])]


async def disclosure_file(state, fund, start: date, end: date) -> str:
    """The public disclosure as a temporary XLSX file; the caller deletes it."""
    async with read_session(state.engine) as session:
        d = await public.disclosure(session, fund.id, start, end, state.timezone)
    table = public.disclosure_table(d)
    heading = Heading(
        title=table.title,
        host=fund.host,
        fund_name=fund.name,
        fund_code=fund.code,
        start=start,
        end=end,
        generated_at=datetime.now(state.timezone),
        lang="zh",
    )

    async def once():
        yield table.rows

    fd, path = tempfile.mkstemp(prefix="jinlin-disclosure-", suffix=".xlsx")
    os.close(fd)
    try:
        await write_xlsx(path, heading, table.columns, once(), sheet=table.title)
    except BaseException:
        os.unlink(path)
        raise
    return path
