"""What a customer does about billing from the dashboard: pay, change plan, open the billing portal."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from services import audit
from services.billing.enrolment import offered_plan, start_checkout
from services.billing.provider import get_gateway, provider_errors
from services.billing.subscription_changes import cancel_downgrade, plan_is_downgrade, schedule_downgrade
from services.billing.subscriptions import current_subscription
from services.branding.brand import portal_url
from services.customer.scope import own_organization
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.models import Instance, Organization, Plan, Subscription, User
from services.tenancy.scope import Customer


def _owned(session: Session, organization_id: int) -> tuple[Subscription, Instance, Organization]:
    subscription = current_subscription(session, organization_id)
    org = session.get(Organization, organization_id)
    instance = (
        session.exec(select(Instance).where(col(Instance.subscription_id) == subscription.id)).first()
        if subscription
        else None
    )
    if subscription is None or instance is None or org is None:
        raise ValidationFailed.single("", N_("There is no subscription on this account."))
    return subscription, instance, org


def retry_payment(session: Session, who: Customer | None, request_host: str = "") -> str:
    organization_id = own_organization(session, who, "billing", attempted="billing.pay_now")
    assert who is not None
    subscription, instance, _org = _owned(session, organization_id)
    if subscription.status != "incomplete":
        raise ValidationFailed.single("", N_("This subscription is already paid."))
    plan = session.get(Plan, subscription.plan_id)
    assert plan is not None
    return start_checkout(
        session, subscription, instance, _billing_email(session, who), plan, request_host=request_host
    )


def change_plan(session: Session, who: Customer | None, plan_slug: str, request_host: str = "") -> str | None:
    """Returns a checkout URL when the change needs a first payment; None when Stripe changes the price."""
    organization_id = own_organization(session, who, "billing", attempted="billing.change_plan")
    assert who is not None
    subscription, instance, org = _owned(session, organization_id)
    if org.parent_id is None:
        raise ValidationFailed.single("plan", N_("Choose one of the plans offered."))
    plan = offered_plan(session, org.parent_id, plan_slug)
    if plan.id == subscription.plan_id:
        if subscription.scheduled_plan_id is not None:  # staying after all: the scheduled downgrade is dropped
            cancel_downgrade(session, who)
            return None
        raise ValidationFailed.single("plan", N_("You are on this plan already."))
    if plan.is_free:
        raise ValidationFailed.single(
            "plan",
            N_(
                "To move to the free plan, cancel your subscription in "
                "Manage billing; it stays active until the end of the period."
            ),
        )
    current = session.get(Plan, subscription.plan_id)
    assert current is not None
    if subscription.stripe_subscription_id and plan_is_downgrade(session, org.parent_id, current, plan_slug):
        schedule_downgrade(session, subscription, current, plan, who)
        return None
    if not subscription.stripe_subscription_id:
        return start_checkout(
            session, subscription, instance, _billing_email(session, who), plan, request_host=request_host
        )
    with provider_errors():
        get_gateway().change_price(
            subscription.stripe_subscription_id,
            plan.stripe_price_id or "",
            idempotency_key=f"portal-plan-{subscription.id}-{uuid.uuid4().hex}",
        )
    audit.record(
        session,
        "billing.change_plan",
        **who.audit_fields(),
        target=("subscription", subscription.id),
        organization_id=organization_id,
        details={"to": plan.slug},
    )
    return None  # the customer.subscription.updated webhook applies the new plan


def billing_portal_url(session: Session, who: Customer | None, request_host: str = "") -> str:
    """Stripe's billing portal for the customer, returning to the portal on the host they came from."""
    organization_id = own_organization(session, who, "billing", attempted="billing.portal")
    subscription, _instance, _org = _owned(session, organization_id)
    if not subscription.stripe_customer_id:
        raise ValidationFailed.single("", N_("There is nothing to manage yet: this account has no paid subscription."))
    with provider_errors():
        return get_gateway().create_portal_session(
            subscription.stripe_customer_id, f"{portal_url(session, organization_id, request_host)}/dashboard"
        )


def _billing_email(session: Session, who: Customer) -> str:
    """The customer's own address for the checkout (never an impersonating admin's)."""
    user = session.get(User, who.user_id)
    return user.email if user else who.email
