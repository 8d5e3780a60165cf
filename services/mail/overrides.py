"""What a seller may write into its own versions of the portal's e-mails, checked before they are stored."""

from __future__ import annotations

from services import templating
from services.mail import links
from services.mail.compose import render_override

EMAIL_TEMPLATES = (
    "welcome",
    "verify_email",
    "reset_password",
    "password_changed",
    "confirm_email_change",
    "email_changed",
    "payment_failed",
    "suspended",
    "budget_alert",
    "invitation",
    "invitation_existing",
    "domain_status",
    "webhook_disabled",
    "plan_price_change",
    "payouts_restricted",
)
EMAIL_PARTS = ("subject", "text", "html")
# every variable any e-mail gets, with sample values: an override that names anything else is refused
EMAIL_SAMPLE = {
    "brand_name": "Brand",
    "support_email": "help@example.com",
    "footer_text": "Footer",
    "powered_by": "",
    "public_url": "https://portal.example.com",
    "url": "https://customer.example.com",
    "subdomain": "customer",
    "admin_email": "customer@example.com",
    "dashboard_url": "https://portal.example.com/dashboard",
    "username": "customer",
    "hours": 48,
    "minutes": 60,
    "percent": 80,
    "used": "$8",
    "total": "$10",
    "consequence": "…",
    "reset_date": "01 Jan 2027",
    "plan": "Starter",
    "new_price": "$29 a month",
    "change_date": "05 Feb 2027",
    "suspend_date": "08 Jan 2027",
    "delete_date": "07 Feb 2027",
    "inviter": "owner@example.com",
    "organization": "Customer",
    "role": "support",
    "days": 7,
    "invitations_url": "https://portal.example.com/invitations",
    "hostname": "app.example.org",
    "endpoint_url": "https://shop.example.com/hooks",
    "problem": "Ownership: there is no TXT record at _portal-challenge.app.example.org yet.",
}
SAMPLE_LINKS = {"link": "https://portal.example.com/verify?token=sample"}


def override_problem(text: str, part: str) -> str | None:
    """Why this override part cannot be used (None when it can): it must render with the sample values, within
    the limits it meets when sent, and place token links only where the portal allows."""
    try:
        render_override(text, part, EMAIL_SAMPLE, SAMPLE_LINKS)
    except templating.TemplateRefused as exc:
        return f"does not render: {exc}"
    except links.UnsafeLinkUse as exc:
        return str(exc)
    return None
