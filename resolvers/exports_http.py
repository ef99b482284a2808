"""GET /exports/{fund_code}/{what}.{csv|xlsx}?from=YYYY-MM-DD&to=YYYY-MM-DD[&lang=zh]

For signed-in FINANCE and ADMIN users (Authorization: Bearer <token>): 401 without a
valid token, 403 for other roles, 404 for an unknown fund or export, 400 for bad
dates. The body is streamed (see resolvers/exports.py).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from resolvers import exports
from resolvers.auth import Action, allowed
from resolvers.errors import UseCaseError
from resolvers.users import viewer_from_token

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _error(status: int, message: str, **headers: str) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def routes(state) -> list[Route]:
    """The export routes, bound to the app's state (engine, token keys, time zone)."""

    async def export(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        viewer = None
        if scheme.lower() == "bearer" and token.strip():
            viewer = await viewer_from_token(state.engine, token.strip(), state.keys)
        if viewer is None:
            return _error(
                401,
                "sign in first: this needs a valid bearer token",
                **{"WWW-Authenticate": "Bearer"},
            )
        if not allowed(viewer, Action.RECONCILE):
            return _error(403, "exports are for finance staff")
        what, dot, fmt = request.path_params["filename"].rpartition(".")
        if not dot or what not in exports.WHATS or fmt not in exports.FORMATS:
            return _error(
                404, "no such export: use journal, statement or trial-balance, .csv or .xlsx"
            )
        try:
            start = date.fromisoformat(request.query_params.get("from", ""))
            end = date.fromisoformat(request.query_params.get("to", ""))
        except ValueError:
            return _error(400, "from and to must be dates, YYYY-MM-DD")
        lang = request.query_params.get("lang", "en")
        try:
            exports.check_request(what, fmt, start, end, lang)
            fund = await exports.fund_by_code(
                state.engine, viewer, request.path_params["fund_code"]
            )
        except UseCaseError as exc:
            return _error(400, exc.message)
        if fund is None:
            return _error(404, "no such fund")
        req = exports.ExportRequest(fund, what, start, end, lang, state.timezone)
        disposition = f"attachment; filename*=UTF-8''{quote(req.filename)}.{fmt}"
        headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
        if fmt == "csv":
            body = exports.csv_stream(state.engine, req)
        else:
            body = exports.file_stream(await exports.xlsx_file(state.engine, req))
        return StreamingResponse(body, media_type=MEDIA[fmt], headers=headers)

    return [Route("/exports/{fund_code}/{filename}", export, methods=["GET"])]
