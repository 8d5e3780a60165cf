"""GET /api/billing/local-invoices/{id} and {id}.pdf: test-mode invoices, as Stripe's hosted invoice and PDF.

The invoice id (80 random bits) is the capability, exactly as Stripe's hosted invoice links are: the links reach
the customer in their invoice list and e-mails, and open without signing in. Off when real Stripe keys are set.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from services.billing.invoice_documents import invoice_document, invoice_html, invoice_pdf

HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link is the capability: never sent on to another site
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


async def local_invoice_page(request: Request) -> Response:
    name = str(request.path_params["invoice"])
    as_pdf = name.endswith(".pdf")
    document = await run_in_threadpool(invoice_document, name.removesuffix(".pdf"))
    if document is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    if as_pdf:
        body = await run_in_threadpool(invoice_pdf, document)
        return Response(
            body,
            media_type="application/pdf",
            headers={**HEADERS, "Content-Disposition": f'inline; filename="invoice-{document.number}.pdf"'},
        )
    return HTMLResponse(invoice_html(document), headers=HEADERS)
