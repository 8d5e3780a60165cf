"""A test-mode invoice as a page and as a PDF, in the seller's name, as Stripe's hosted invoice and PDF are.

Only the local stand-in needs these: with Stripe keys the links in the invoice list are Stripe's own. Every value
that reaches the page is escaped by Jinja's autoescape; the PDF is drawn by fpdf2 from the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF
from jinja2 import Environment
from sqlmodel import col, select

from services.billing.local import local_invoice
from services.branding.brand import brand_for
from services.db import session_scope
from services.models import Invoice
from services.money import format_cents

_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {{ d.number }} · {{ d.seller }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ddd}
td.amount,th.amount{text-align:right}.status{font-weight:600}</style></head>
<body><main>
<h1>Invoice {{ d.number }}</h1>
<p>From <strong>{{ d.seller }}</strong> · issued {{ d.issued }} · <span class="status">{{ d.status }}</span></p>
<table><caption>What this invoice is for</caption>
<thead><tr><th scope="col">Description</th><th scope="col">Period</th>
<th scope="col" class="amount">Amount</th></tr></thead>
<tbody><tr><td>{{ d.description }}</td><td>{{ d.period }}</td><td class="amount">{{ d.total }}</td></tr></tbody>
<tfoot><tr><th scope="row" colspan="2">Total</th><td class="amount">{{ d.total }}</td></tr>
<tr><th scope="row" colspan="2">Paid</th><td class="amount">{{ d.paid }}</td></tr></tfoot></table>
<p><a href="{{ d.pdf_path }}">Download the PDF</a></p>
<p><small>Test mode: no card was charged.</small></p>
</main></body></html>"""
)


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    seller: str
    issued: str
    status: str
    description: str
    period: str
    total: str
    paid: str
    pdf_path: str


def _day(value: Any) -> str:
    return f"{datetime.fromtimestamp(int(value), tz=UTC):%d %b %Y}" if value else ""


def invoice_document(invoice_id: str) -> InvoiceDocument | None:
    """The test-mode invoice's figures, with the seller's brand name; None when there is no such invoice."""
    data = local_invoice(invoice_id)
    if data is None:
        return None
    with session_scope() as session:
        row = session.exec(select(Invoice).where(col(Invoice.stripe_invoice_id) == invoice_id)).first()
        seller = brand_for(session, row.organization_id).platform_name if row else "Portal"
    line = ((data.get("lines") or {}).get("data") or [{}])[0]
    currency = str(data.get("currency") or "usd")
    period = line.get("period") or {}
    return InvoiceDocument(
        number=str(data.get("number") or ""),
        seller=seller,
        issued=_day(data.get("created")),
        status={"paid": "Paid", "open": "Due", "void": "Void"}.get(str(data.get("status")), str(data.get("status"))),
        description=str(line.get("description") or ""),
        period=f"{_day(period.get('start'))} – {_day(period.get('end'))}",
        total=format_cents(int(data.get("total") or 0), currency),
        paid=format_cents(int(data.get("amount_paid") or 0), currency),
        pdf_path=f"/api/billing/local-invoices/{invoice_id}.pdf",
    )


def invoice_html(document: InvoiceDocument) -> str:
    return _PAGE.render(d=document)


def invoice_pdf(document: InvoiceDocument) -> bytes:
    pdf = FPDF()
    pdf.set_title(f"Invoice {document.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, _latin1(f"Invoice {document.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for text in (
        f"From {document.seller}",
        f"Issued {document.issued} - {document.status}",
        "",
        f"{document.description}   {document.period}",
        f"Total {document.total}",
        f"Paid {document.paid}",
        "",
        "Test mode: no card was charged.",
    ):
        pdf.cell(0, 8, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    """The PDF's core font speaks Latin-1: other characters (a brand's emoji, the × sign) become '?' or 'x'."""
    return text.replace("×", "x").replace("–", "-").replace("€", "EUR ").encode("latin-1", "replace").decode("latin-1")
