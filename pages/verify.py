"""GET /verify/{receipt}: the public check of one receipt. The page shows what the
proof document (/verify/{receipt}.json) holds: the masked donor, the amount, the fund
and day, the entry's hash, its audit path and the day's published root; the browser
then recomputes the root from the hash and the path itself (static/verify.js, with
SubtleCrypto) and says whether they agree."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from resolvers.receipts import load_receipt, proof_document


async def verify_page(pages, request: Request) -> Response:
    number = request.path_params["number"]
    facts = await load_receipt(pages.state.engine, number)
    if facts is None:
        return pages.not_found(request, "收据")
    doc = await proof_document(pages.state.engine, facts, pages.state.timezone)
    response = pages._render(request, "verify.html", doc=doc, proof_url=f"/verify/{number}.json")
    response.headers["Cache-Control"] = "no-cache"
    return response
