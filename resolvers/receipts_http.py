"""GET /receipts/{number}.pdf and GET /verify/{number}.json.

The PDF is for the donor (the link's `key` is the receipt's secret), FINANCE and ADMIN,
and the partner who gave (Authorization: Bearer <token>). Anyone else gets 404, as for
a receipt that does not exist. The proof document is public: it shows the masked
donor and hashes only.

Links printed on a receipt are absolute: JINLIN_PUBLIC_URL (e.g. https://jinlin.example)
when the server sits behind a proxy, else the address the request came to.
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from resolvers.receipt_pdf import ReceiptContent, render_receipt
from resolvers.receipts import load_receipt, proof_document, verify_path
from resolvers.users import viewer_from_token


def public_base(request: Request) -> str:
    configured = os.environ.get("JINLIN_PUBLIC_URL", "").strip()
    return (configured or str(request.base_url)).rstrip("/")


def _missing(status: int = 404) -> Response:
    return JSONResponse({"error": "no such receipt"}, status_code=status)


def routes(state) -> list[Route]:
    async def viewer_of(request: Request):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await viewer_from_token(state.engine, token.strip(), state.keys)

    async def receipt_pdf(request: Request) -> Response:
        facts = await load_receipt(state.engine, request.path_params["number"])
        key = request.query_params.get("key")
        viewer = await viewer_of(request)
        if facts is None or not facts.may_download(viewer, key):
            return _missing()
        content = ReceiptContent(
            number=facts.number,
            fund_name=facts.fund.name,
            fund_code=facts.fund.code,
            host=facts.fund.host,
            donor=facts.donor_as_recorded,
            amount_fen=facts.donation.amount_fen,
            channel=facts.donation.channel,
            received_at=facts.donation.received_at,
            entry_sequence=facts.entry.sequence,
            entry_hash=facts.entry.hash,
            verify_url=public_base(request) + verify_path(facts.number),
            void=facts.void,
        )
        pdf = render_receipt(content, state.timezone)
        headers = {
            "Content-Disposition": f'inline; filename="{facts.number}.pdf"',
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
        }
        return Response(pdf, media_type="application/pdf", headers=headers)

    async def proof_json(request: Request) -> Response:
        facts = await load_receipt(state.engine, request.path_params["number"])
        if facts is None:
            return _missing()
        doc = await proof_document(state.engine, facts, state.timezone)
        return JSONResponse(doc, headers={"Cache-Control": "no-cache"})

    return [
        Route("/receipts/{number}.pdf", receipt_pdf, methods=["GET"]),
        Route("/verify/{number}.json", proof_json, methods=["GET"]),
    ]
