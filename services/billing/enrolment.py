"""A new customer's subscription and instance, created with the account in one transaction."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.billing.budgets import ensure_budget_period, next_month
from services.billing.connect import destination_for
from services.billing.gateway import CheckoutRequest
from services.billing.provider import PROVIDER_DOWN, get_gateway
from services.branding.brand import portal_url
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.models import AppTemplate, Instance, Organization, Plan, Subscription
from services.models.base import key, utcnow
from services.provisioning import actions, engine
from services.provisioning.prewarm import prepare_for_checkout
from services.tenancy.licences import ensure_room_for_instance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enrolment:
    subscription_id: int
    instance_id: int
    checkout_url: str | None


def offered_plan(session: Session, parent_org_id: int, plan_slug: str) -> Plan:
    plan = session.exec(
        select(Plan).where(
            col(Plan.organization_id) == parent_org_id,
            col(Plan.slug) == plan_slug,
            col(Plan.is_public),
            col(Plan.archived_at).is_(None),
        )
    ).first()
    if plan is None:
        raise ValidationFailed.single("plan", N_("Choose one of the plans offered."))
    if not plan.is_free and not plan.stripe_price_id:
        raise ValidationFailed.single("plan", N_("This plan cannot be bought online yet. Please choose another."))
    return plan


def enrol(session: Session, *, organization_id: int, email: str, plan_slug: str, request_host: str = "") -> Enrolment:
    org = session.get(Organization, organization_id)
    assert org is not None and org.parent_id is not None
    plan = offered_plan(session, org.parent_id, plan_slug)
    ensure_room_for_instance(session, organization_id)
    template = session.get(AppTemplate, plan.app_template_id) if plan.app_template_id else None
    subscription = Subscription(
        organization_id=organization_id,
        plan_id=key(plan),
        status="active" if plan.is_free else "incomplete",
    )
    session.add(subscription)
    session.flush()
    instance = Instance(
        organization_id=organization_id,
        subscription_id=subscription.id,
        app_template_id=plan.app_template_id,
        subdomain=org.slug,
        backend=template.backend if template else "docker",
        status="pending" if plan.is_free else "awaiting_payment",
        desired_state="running",
    )
    session.add(instance)
    session.flush()
    if plan.is_free:
        ensure_budget_period(session, subscription, plan, next_month(utcnow()))  # no invoices: monthly by the clock
        engine.request_action(session, instance, actions.PROVISION, requested_by="signup")
        return Enrolment(key(subscription), key(instance), None)
    url = start_checkout(session, subscription, instance, email, plan, request_host=request_host)
    return Enrolment(key(subscription), key(instance), url)


def start_checkout(
    session: Session, subscription: Subscription, instance: Instance, email: str, plan: Plan, *, request_host: str = ""
) -> str:
    """Create a Checkout Session for this subscription (also used to try again after a cancelled payment).

    Stripe sends the customer back to the host they paid from when it belongs to their seller (their session
    and their seller's brand live there), else to their seller's own domain.
    """
    base = portal_url(session, subscription.organization_id, request_host)
    destination, fee = destination_for(session, plan)
    request = CheckoutRequest(
        organization_id=subscription.organization_id,
        instance_id=key(instance),
        subscription_id=key(subscription),
        price_id=plan.stripe_price_id or "",
        customer_email=email,
        customer_id=subscription.stripe_customer_id,
        success_url=f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{base}/billing/cancel",
        idempotency_key=f"portal-checkout-{subscription.id}-{uuid.uuid4().hex}",
        destination_account=destination,
        application_fee_percent=fee,
    )
    try:
        checkout = get_gateway().create_checkout_session(request, session)
    except Exception as exc:
        log.warning("checkout session could not be created: %s", exc)
        raise ValidationFailed.single("", PROVIDER_DOWN) from exc
    subscription.checkout_session_id = checkout["id"]
    session.add(subscription)
    prepare_for_checkout(session, instance)
    return str(checkout["url"])
