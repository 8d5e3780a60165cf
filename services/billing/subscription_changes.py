"""What a customer changes about their subscription themselves: cancel at period end (and take it back), downgrade
at period end (and take it back), delete a free instance, and the billing page that says what each one does and
when before it is confirmed.

Stripe stays the truth for what is billed: each change is made there first and our row follows from its answer
(the `customer.subscription.updated` event that follows re-reads it again, so order does not matter).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services import audit
from services.billing.enrolment import offered_plan
from services.billing.invoices import describe_upcoming, invoice_lines
from services.billing.lifecycle import instance_of
from services.billing.provider import get_gateway, provider_errors
from services.billing.subscriptions import current_subscription, sync_from_stripe
from services.customer.scope import own_organization
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import Organization, Plan, Subscription
from services.models.base import key, utcnow
from services.money import format_cents
from services.provisioning import actions, engine
from services.tenancy.scope import Customer

log = logging.getLogger(__name__)
NO_SUBSCRIPTION = N_("There is no subscription on this account.")


def _date(value: datetime | None) -> str:
    return f"{value:%d %b %Y}" if value else "the end of the period"


@dataclass
class BillingOverview:
    """The billing page: the plan, what is scheduled, what each choice would do and when, and the invoices."""

    plan_name: str = ""
    plan_price: str = ""
    is_free: bool = False
    status: str = ""
    period_end: str = ""
    paid: bool = False  # a paid subscription at Stripe (cancel and downgrade apply)
    cancel_scheduled: bool = False
    cancel_effect: str = ""
    resume_effect: str = ""
    downgrade_to: str = ""
    downgrade_effect: str = ""
    downgrade_options: list[dict[str, str]] = field(default_factory=list)
    delete_effect: str = ""
    can_delete: bool = False
    subdomain: str = ""
    upcoming: str = ""
    invoices: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _owned(session: Session, who: Customer | None, capability: str, attempted: str) -> tuple[Subscription, Plan]:
    organization_id = own_organization(session, who, capability, attempted=attempted)
    subscription = current_subscription(session, organization_id)
    plan = session.get(Plan, subscription.plan_id) if subscription else None
    if subscription is None or plan is None or subscription.terminated_at is not None:
        raise ValidationFailed.single("", NO_SUBSCRIPTION)
    return subscription, plan


def billing_overview(session: Session, who: Customer | None, *, with_upcoming: bool = True) -> BillingOverview:
    """Everything the billing page shows. `with_upcoming` asks Stripe for the next invoice (a round trip)."""
    organization_id = own_organization(session, who, "billing", attempted="billing.view")
    view = BillingOverview(invoices=[line.to_dict() for line in invoice_lines(session, organization_id)])
    subscription = current_subscription(session, organization_id)
    plan = session.get(Plan, subscription.plan_id) if subscription else None
    if subscription is None or plan is None or subscription.terminated_at is not None:
        return view
    instance = instance_of(session, subscription)
    org = session.get(Organization, organization_id)
    ends = _date(subscription.current_period_end)
    view.plan_name, view.plan_price, view.is_free = (
        plan.name,
        format_cents(plan.price_cents, plan.currency),
        plan.is_free,
    )
    view.status, view.period_end = subscription.status, ends if subscription.current_period_end else ""
    view.paid = bool(subscription.stripe_subscription_id) and subscription.status in ("active", "trialing", "past_due")
    view.cancel_scheduled = subscription.cancel_at_period_end
    view.subdomain = instance.subdomain if instance else ""
    view.cancel_effect = (
        f"Your subscription stays active, with everything it includes, until {ends}. Nothing more is charged. "
        f"Then your instance is suspended, and it and its data are deleted {plan.retention_days} days later "
        "unless you subscribe again."
    )
    view.resume_effect = f"Your subscription goes on: it renews on {ends} at {view.plan_price} a {plan.interval}."
    scheduled = session.get(Plan, subscription.scheduled_plan_id) if subscription.scheduled_plan_id else None
    if scheduled is not None:
        view.downgrade_to = scheduled.name
        view.downgrade_effect = (
            f"On {_date(subscription.plan_change_at)} your plan becomes {scheduled.name} at "
            f"{format_cents(scheduled.price_cents, scheduled.currency)} a {scheduled.interval}, with its limits. "
            f"Until then you keep {plan.name}."
        )
    if org is not None and org.parent_id is not None and view.paid and not subscription.cancel_at_period_end:
        view.downgrade_options = _downgrade_options(session, org.parent_id, plan, ends)
    view.can_delete = plan.is_free and instance is not None and instance.status != "deprovisioned"
    view.delete_effect = (
        f"Your instance {view.subdomain} and all its data are deleted now, and your free plan ends. "
        "This cannot be undone."
    )
    if with_upcoming and view.paid and subscription.stripe_customer_id and not subscription.cancel_at_period_end:
        view.upcoming = upcoming_invoice(subscription)
    return view


def _downgrade_options(session: Session, seller_id: int, plan: Plan, ends: str) -> list[dict[str, str]]:
    """The seller's public paid plans cheaper than the current one, each with what moving to it does and when."""
    cheaper = session.exec(
        select(Plan)
        .where(
            col(Plan.organization_id) == seller_id,
            col(Plan.is_public),
            col(Plan.archived_at).is_(None),
            col(Plan.price_cents) > 0,
            col(Plan.price_cents) < plan.price_cents,
            col(Plan.stripe_price_id).is_not(None),
        )
        .order_by(col(Plan.price_cents).desc())
    ).all()
    return [
        {
            "slug": other.slug,
            "name": other.name,
            "price": format_cents(other.price_cents, other.currency),
            "effect": (
                f"You keep {plan.name} and its limits until {ends}. From then on you pay "
                f"{format_cents(other.price_cents, other.currency)} a {other.interval}, and your instance gets "
                f"{other.name}'s limits. Nothing is refunded for the current period."
            ),
        }
        for other in cheaper
    ]


def upcoming_invoice(subscription: Subscription) -> str:
    """'$19 on 05 Jan 2027', '' when none is coming, or a sentence when Stripe cannot be asked now."""
    try:
        preview = get_gateway().preview_invoice(
            subscription.stripe_customer_id or "", subscription.stripe_subscription_id or ""
        )
    except Exception:
        log.warning("the upcoming invoice of subscription %s could not be read", subscription.id, exc_info=True)
        return "The next invoice cannot be shown right now."
    return describe_upcoming(preview)


def set_cancellation(session: Session, who: Customer | None, cancel: bool, ip: str = "") -> str:
    """Cancel at the end of the paid period (`cancel=True`), or keep the subscription after all."""
    attempted = "billing.cancel" if cancel else "billing.resume"
    subscription, _plan = _owned(session, who, "billing", attempted)
    assert who is not None
    if not subscription.stripe_subscription_id or subscription.status == "canceled":
        raise ValidationFailed.single("", N_("Only a paid subscription that is still running can be cancelled."))
    if subscription.cancel_at_period_end == cancel:
        return "already cancelled" if cancel else "already running"
    with provider_errors():
        truth = get_gateway().set_cancel_at_period_end(
            subscription.stripe_subscription_id or "", cancel, f"portal-cancel-{subscription.id}-{uuid.uuid4().hex}"
        )
    sync_from_stripe(session, truth, subscription)
    audit.record(
        session,
        attempted,
        **who.audit_fields(),
        target=("subscription", subscription.id),
        organization_id=subscription.organization_id,
        ip=ip,
        details={
            "period_end": subscription.current_period_end.isoformat() if subscription.current_period_end else None
        },
    )
    return "cancelled" if cancel else "resumed"


def schedule_downgrade(
    session: Session, subscription: Subscription, current: Plan, target: Plan, who: Customer
) -> None:
    """Billed at the lower price from the next renewal (no proration), the new limits from the period's end."""
    ends = subscription.current_period_end
    if ends is None or ends <= utcnow():
        raise ValidationFailed.single(
            "plan", N_("This period is ending now; choose the plan again once it has renewed.")
        )
    with provider_errors():
        truth = get_gateway().change_price(
            subscription.stripe_subscription_id or "",
            target.stripe_price_id or "",
            idempotency_key=f"portal-downgrade-{subscription.id}-{uuid.uuid4().hex}",
            downgrade_at=int(ends.timestamp()),
        )
    sync_from_stripe(session, truth, subscription)  # the schedule, from what Stripe now holds
    audit.record(
        session,
        "billing.downgrade_scheduled",
        **who.audit_fields(),
        target=("subscription", subscription.id),
        organization_id=subscription.organization_id,
        details={"from": current.slug, "to": target.slug, "at": ends.isoformat()},
    )


def cancel_downgrade(session: Session, who: Customer | None, ip: str = "") -> str:
    """Take back a scheduled downgrade: the current plan's price again, nothing changes at the period's end."""
    subscription, plan = _owned(session, who, "billing", "billing.downgrade_undone")
    assert who is not None
    if subscription.scheduled_plan_id is None:
        return "nothing scheduled"
    with provider_errors():
        truth = get_gateway().change_price(
            subscription.stripe_subscription_id or "",
            plan.stripe_price_id or "",
            idempotency_key=f"portal-downgrade-undo-{subscription.id}-{uuid.uuid4().hex}",
            prorate=False,  # the period was paid at this price: nothing to credit or charge
        )
    sync_from_stripe(session, truth, subscription)
    audit.record(
        session,
        "billing.downgrade_undone",
        **who.audit_fields(),
        target=("subscription", subscription.id),
        organization_id=subscription.organization_id,
        ip=ip,
    )
    return "undone"


def plan_is_downgrade(session: Session, seller_id: int, current: Plan, slug: str) -> Plan | None:
    """The offered plan named `slug` when moving to it is a downgrade (a lower paid price), else None."""
    target = offered_plan(session, seller_id, slug)
    return target if not target.is_free and target.price_cents < current.price_cents else None


def request_downgrade(session: Session, who: Customer | None, slug: str, ip: str = "") -> str:
    """The billing page's downgrade: only to a cheaper paid plan of the seller, from a paid subscription."""
    subscription, plan = _owned(session, who, "billing", "billing.change_plan")
    assert who is not None
    org = session.get(Organization, subscription.organization_id)
    if not subscription.stripe_subscription_id or org is None or org.parent_id is None:
        raise ValidationFailed.single("plan", N_("Only a paid subscription can move to a cheaper plan."))
    target = plan_is_downgrade(session, org.parent_id, plan, slug)
    if target is None:
        raise ValidationFailed.single("plan", N_("Choose one of the cheaper plans offered here."))
    schedule_downgrade(session, subscription, plan, target, who)
    return "scheduled"


def delete_free_instance(session: Session, who: Customer | None, confirm_subdomain: str, ip: str = "") -> str:
    """The owner deletes their free instance and ends the free plan; typing the instance's name confirms it."""
    subscription, plan = _owned(session, who, "close", "instance.delete")
    assert who is not None
    instance = instance_of(session, subscription)
    if not plan.is_free:
        raise ValidationFailed.single("", N_("A paid plan is ended by cancelling it; the instance is removed after."))
    if instance is None or instance.status == "deprovisioned":
        raise ValidationFailed.single("", N_("There is no instance to delete."))
    if confirm_subdomain.strip().lower() != instance.subdomain:
        raise ValidationFailed.single("confirm", say("Type {subdomain} to confirm.", subdomain=instance.subdomain))
    if engine.active_action(session, key(instance)) is not None:
        raise ValidationFailed.single(
            "", N_("Another action is still running on your instance. Wait for it to finish.")
        )
    now = utcnow()
    subscription.status, subscription.canceled_at, subscription.terminated_at = "canceled", now, now
    subscription.updated_at = now
    session.add(subscription)
    engine.request_action(session, instance, actions.DEPROVISION, requested_by=f"customer:{who.user_id}")
    audit.record(
        session,
        "instance.delete",
        **who.audit_fields(),
        target=("instance", instance.id),
        organization_id=instance.organization_id,
        ip=ip,
        details={"subdomain": instance.subdomain, "plan": plan.slug},
    )
    return "deleting"
