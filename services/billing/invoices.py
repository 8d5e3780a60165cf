"""Invoices: our copy of each Stripe invoice, kept from its events, and what the customer's invoice list shows.

The copy is what the invoice list, the data export and the business's own records read, so none of them wait on
Stripe or break when it is down. Events arrive in any order: a final state (paid, void, uncollectible) is never
overwritten by an earlier one (open, draft).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from services.billing.gateway import from_unix
from services.models import Invoice, Subscription
from services.models.base import key, utcnow
from services.money import format_cents

RANK = {"draft": 0, "open": 1, "paid": 2, "void": 2, "uncollectible": 2}
STATUS_LABELS = {"draft": "Draft", "open": "Due", "paid": "Paid", "void": "Void", "uncollectible": "Unpaid"}


def _https_or_none(url: Any) -> str | None:
    """Links shown to the customer: only web addresses (never a `javascript:` a forged event could carry)."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 2000 else None


def _money(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53 else 0


def record_invoice(session: Session, obj: dict[str, Any], subscription: Subscription) -> Invoice | None:
    """Keep Stripe's invoice as ours (insert or move forward). None for an invoice without an id."""
    stripe_id = obj.get("id")
    if not isinstance(stripe_id, str) or not stripe_id:
        return None
    row = session.exec(select(Invoice).where(col(Invoice.stripe_invoice_id) == stripe_id)).first()
    status = str(obj.get("status") or "draft")
    status = status if status in RANK else "draft"
    if row is not None and RANK[status] < RANK.get(row.status, 0):
        return row  # an older event after a newer one: the invoice already moved on
    lines = ((obj.get("lines") or {}).get("data") or [{}])[:1]
    period = (lines[0].get("period") or {}) if lines else {}
    row = row or Invoice(organization_id=subscription.organization_id, stripe_invoice_id=stripe_id)
    row.subscription_id = key(subscription)
    row.number = str(obj["number"])[:100] if obj.get("number") else row.number
    row.status = status
    row.currency = str(obj.get("currency") or "usd")[:3]
    row.total = _money(obj.get("total"))
    row.amount_due = _money(obj.get("amount_due"))
    row.amount_paid = _money(obj.get("amount_paid"))
    row.description = str((lines[0].get("description") if lines else "") or "")[:500]
    row.period_start = from_unix(period.get("start") or obj.get("period_start"))
    row.period_end = from_unix(period.get("end") or obj.get("period_end"))
    row.hosted_invoice_url = _https_or_none(obj.get("hosted_invoice_url")) or row.hosted_invoice_url
    row.invoice_pdf = _https_or_none(obj.get("invoice_pdf")) or row.invoice_pdf
    row.issued_at = from_unix(obj.get("created")) or row.issued_at
    row.updated_at = utcnow()
    session.add(row)
    return row


@dataclass(frozen=True)
class InvoiceLine:
    """One row of the customer's invoice list."""

    number: str
    date: str
    amount: str
    status: str
    status_label: str
    view_url: str
    pdf_url: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def invoice_lines(session: Session, organization_id: int, limit: int = 100) -> list[InvoiceLine]:
    """The organization's invoices, newest first (drafts are Stripe's working copies, not shown)."""
    rows = session.exec(
        select(Invoice)
        .where(col(Invoice.organization_id) == organization_id, col(Invoice.status) != "draft")
        .order_by(col(Invoice.issued_at).desc(), col(Invoice.id).desc())
        .limit(limit)
    ).all()
    return [
        InvoiceLine(
            number=row.number or "—",
            date=f"{row.issued_at:%d %b %Y}",
            amount=format_cents(row.total, row.currency),
            status=row.status,
            status_label=STATUS_LABELS.get(row.status, row.status),
            view_url=row.hosted_invoice_url or "",
            pdf_url=row.invoice_pdf or "",
        )
        for row in rows
    ]


def describe_upcoming(preview: dict[str, Any] | None) -> str:
    """'€19.00 on 05 Jan 2027' for Stripe's preview of the next invoice; '' when none is coming."""
    if not preview:
        return ""
    when = from_unix(preview.get("next_payment_attempt") or preview.get("period_end") or preview.get("created"))
    amount = format_cents(_money(preview.get("amount_due")), str(preview.get("currency") or "usd"))
    return f"{amount} on {when:%d %b %Y}" if when else amount
