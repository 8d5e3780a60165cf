"""Payouts to sellers with Stripe Connect: a seller connects its own Stripe account, its customers then pay through
the platform with the money going to the seller and the platform's share (the licence's application fee) kept.

- Onboarding: an Express account is created once, then each visit asks Stripe for a fresh onboarding link (links
  are single use and short-lived), returning to the console. The status the console shows is Stripe's account,
  copied from it: details missing, pending, enabled, restricted.
- Checkout: a seller whose account is enabled gets destination charges (`transfer_data.destination` and
  `application_fee_percent` on the subscription); one that is not yet enabled sells as before (the platform takes
  the payment and settles with it), so a signup never fails on a seller's paperwork.
- Connect events (`account.updated`, with their top-level `account`) are stored and handled like the rest: the
  handler re-reads the account from Stripe, so order does not matter. An account that Stripe restricts keeps its
  customers' subscriptions and instances running; the seller's owner is told by e-mail, and the console says why.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from services import audit
from services.billing.provider import get_gateway, provider_errors
from services.branding.brand import portal_url
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.mail.outgoing import send_after_commit
from services.models import ConnectedAccount, Organization, Plan
from services.models.base import key, utcnow
from services.tenancy.licences import SELLER_KINDS, active_licence
from services.tenancy.orgs import owner_user
from services.tenancy.scope import Actor, authorise

log = logging.getLogger(__name__)

LABELS = {
    "details_missing": "Details missing: finish the onboarding at Stripe",
    "pending": "Pending: Stripe is checking your details",
    "enabled": "Enabled: your customers' payments go to your Stripe account",
    "restricted": "Restricted by Stripe",
    "": "Not connected",
}


def status_of(account: dict[str, Any]) -> tuple[str, str | None]:
    """Stripe's account object as one of our states, with Stripe's reason when it is restricted."""
    reason = (account.get("requirements") or {}).get("disabled_reason")
    if account.get("charges_enabled") and account.get("payouts_enabled"):
        return "enabled", None
    if reason and account.get("details_submitted"):
        return "restricted", str(reason)[:200]
    if not account.get("details_submitted"):
        return "details_missing", None
    return "pending", None


@dataclass
class PayoutsView:
    connected: bool = False
    status: str = ""
    label: str = LABELS[""]
    reason: str = ""
    fee: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seller(session: Session, actor: Actor | None, capability: str, attempted: str) -> tuple[Organization, Actor]:
    checked = authorise(
        session,
        actor,
        capability,
        action=attempted,
        target=("organization", actor.organization_id if actor else "-"),
        organization_id=actor.organization_id if actor else -1,
    )
    org = session.get(Organization, checked.organization_id)
    assert org is not None
    if org.kind not in SELLER_KINDS:
        raise ValidationFailed.single(
            "", N_("Payouts are for resellers: the platform's own customers pay the platform.")
        )
    return org, checked


def account_of(session: Session, organization_id: int) -> ConnectedAccount | None:
    return session.exec(
        select(ConnectedAccount).where(col(ConnectedAccount.organization_id) == organization_id)
    ).first()


def payouts_view(session: Session, actor: Actor | None, *, refresh: bool = False) -> PayoutsView | None:
    """The console's Payouts card; None for whoever has no payouts to see (the platform, roles without billing),
    which is not a refusal. `refresh`: back from Stripe's onboarding, the account is read from Stripe now (its
    event may still be on its way)."""
    if actor is None or actor.organization_kind not in SELLER_KINDS or not actor.can("billing"):
        return None
    org, _checked = _seller(session, actor, "billing", "payouts.view")
    account = account_of(session, key(org))
    if refresh and account is not None:
        try:
            truth = get_gateway().retrieve_account(account.stripe_account_id)
        except Exception:  # the event will bring it; the card shows what is known
            log.warning("account %s could not be read from Stripe", account.stripe_account_id, exc_info=True)
            truth = None
        if truth is not None:
            sync_account(session, truth)
    licence = active_licence(session, key(org))
    view = PayoutsView(fee=f"{Decimal(licence.application_fee_bps) / 100:.2f} %" if licence else "")
    if account is not None:
        view.connected, view.status, view.reason = True, account.status, account.disabled_reason or ""
        view.label = LABELS.get(account.status, account.status)
    return view


def onboarding_link(session: Session, actor: Actor | None, request_host: str = "", ip: str = "") -> str:
    """Where the seller's owner (or admin) finishes onboarding at Stripe; creates the account the first time."""
    org, checked = _seller(session, actor, "manage", "payouts.connect")
    account = account_of(session, key(org))
    gateway = get_gateway()
    with provider_errors():
        if account is None:
            created = gateway.create_connected_account(
                checked.email, {"organization_id": str(org.id)}, f"portal-connect-{org.id}"
            )
            account = ConnectedAccount(organization_id=key(org), stripe_account_id=str(created["id"]))
            _copy(account, created)
            session.add(account)
            session.flush()
            audit.record(
                session,
                "payouts.account_created",
                **checked.audit_fields(),
                target=("organization", org.id),
                organization_id=org.id,
                ip=ip,
                details={"account": account.stripe_account_id},
            )
        base = portal_url(session, key(org), request_host)
        return gateway.create_account_link(
            account.stripe_account_id, f"{base}/admin?payouts=refresh", f"{base}/admin?payouts=return"
        )


def _copy(account: ConnectedAccount, truth: dict[str, Any]) -> None:
    account.status, account.disabled_reason = status_of(truth)
    account.charges_enabled = bool(truth.get("charges_enabled"))
    account.payouts_enabled = bool(truth.get("payouts_enabled"))
    account.details_submitted = bool(truth.get("details_submitted"))
    account.updated_at = utcnow()


def sync_account(session: Session, truth: dict[str, Any]) -> str:
    """Stripe's account onto ours; a newly restricted one tells the seller's owner. Returns what happened."""
    account = session.exec(
        select(ConnectedAccount).where(col(ConnectedAccount.stripe_account_id) == str(truth.get("id")))
    ).first()
    if account is None:
        return "unknown account"
    before = account.status
    _copy(account, truth)
    session.add(account)
    if account.status == "restricted" and before != "restricted":
        owner = owner_user(session, account.organization_id)
        if owner is not None:
            send_after_commit(
                session,
                "payouts_restricted",
                owner.email,
                {"problem": account.disabled_reason or "more information is needed"},
                organization_id=account.organization_id,
            )
        audit.record(
            session,
            "payouts.restricted",
            actor_label="stripe",
            target=("organization", account.organization_id),
            organization_id=account.organization_id,
            details={"reason": account.disabled_reason},
        )
    return f"{before} → {account.status}"


def destination_for(session: Session, plan: Plan) -> tuple[str | None, str | None]:
    """The seller's enabled account and the platform's fee for a checkout of `plan`; (None, None) when the
    seller has none enabled (the platform takes the payment, as before Connect)."""
    account = account_of(session, plan.organization_id)
    if account is None or account.status != "enabled":
        return None, None
    licence = active_licence(session, plan.organization_id)
    bps = licence.application_fee_bps if licence else 0
    return account.stripe_account_id, (f"{Decimal(bps) / 100:f}".rstrip("0").rstrip(".") if bps else None)
