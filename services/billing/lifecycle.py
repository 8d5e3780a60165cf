"""What a subscription's state means for its instance: provision, suspend, resume, terminate, apply limits.

Every function reads the current state and moves toward it, so calling them in any order, any number of
times (webhooks, the periodic job, an admin replay) ends in the same place.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from services.mail.outgoing import send_after_commit
from services.models import Instance, Plan, Subscription
from services.models.base import utcnow
from services.provisioning import actions, engine
from services.tenancy.orgs import owner_user
from services.usage.alerts import budget_holds_instance
from services.webhooks.outbox import emit

log = logging.getLogger(__name__)

GOOD = ("active", "trialing")
DUNNING = ("past_due", "unpaid")
NOT_YET_PROVISIONED = ("pending", "awaiting_payment")


def instance_of(session: Session, subscription: Subscription) -> Instance | None:
    return session.exec(select(Instance).where(col(Instance.subscription_id) == subscription.id)).first()


def apply(
    session: Session, subscription: Subscription, *, plan_changed: bool = False, now: datetime | None = None
) -> str:
    """Bring the instance in line with the subscription. Returns what it did (for logs and tests)."""
    now = now or utcnow()
    if subscription.terminated_at is not None:
        return "terminated"
    plan = session.get(Plan, subscription.plan_id)
    assert plan is not None
    instance = instance_of(session, subscription)
    status = subscription.status
    if status in GOOD:
        subscription.grace_until = None
        return _keep_running(session, subscription, instance, plan_changed)
    if status in DUNNING:
        if subscription.grace_until is None:  # the first time this period: say so once, with the date
            subscription.grace_until = now + timedelta(days=plan.grace_days)
            _announce(session, subscription, "subscription.past_due")
            _tell_customer(
                session,
                subscription,
                "payment_failed",
                {"plan": plan.name, "suspend_date": subscription.grace_until},
            )
        session.add(subscription)
        return _enforce_deadlines(session, subscription, instance, subscription.grace_until, plan, now)
    if status == "canceled":
        subscription.canceled_at = subscription.canceled_at or now
        session.add(subscription)
        return _enforce_deadlines(session, subscription, instance, subscription.canceled_at, plan, now)
    return "waiting"  # incomplete, paused, incomplete_expired: nothing runs before a first payment


def _keep_running(session: Session, subscription: Subscription, instance: Instance | None, plan_changed: bool) -> str:
    session.add(subscription)
    if instance is None or instance.status == "deprovisioned":
        return "no instance"
    if instance.status in NOT_YET_PROVISIONED:
        engine.request_action(session, instance, actions.PROVISION, requested_by="billing")
        return "provisioning"
    if subscription.suspended_at is not None or instance.desired_state == "suspended":
        if subscription.suspended_at is not None:
            _announce(session, subscription, "subscription.reactivated")
        subscription.suspended_at = None
        plan = session.get(Plan, subscription.plan_id)
        if plan is not None and budget_holds_instance(session, subscription, plan):
            return "suspended for budget"
        engine.request_action(session, instance, actions.RESUME, requested_by="billing")
        return "resuming"
    if plan_changed:
        engine.request_action(session, instance, actions.APPLY_LIMITS, requested_by="billing")
        return "applying limits"
    return "ok"


def _enforce_deadlines(
    session: Session,
    subscription: Subscription,
    instance: Instance | None,
    suspend_at: datetime,
    plan: Plan,
    now: datetime,
) -> str:
    if now >= suspend_at + timedelta(days=plan.retention_days):
        subscription.terminated_at = now
        session.add(subscription)
        _announce(session, subscription, "subscription.terminated")
        if instance is not None and instance.status not in ("deprovisioned", *NOT_YET_PROVISIONED):
            engine.request_action(session, instance, actions.DEPROVISION, requested_by="billing")
        return "terminating"
    if now >= suspend_at and subscription.suspended_at is None:
        subscription.suspended_at = now
        session.add(subscription)
        _announce(session, subscription, "subscription.suspended")
        _tell_customer(
            session,
            subscription,
            "suspended",
            {
                "subdomain": instance.subdomain if instance else "",
                "delete_date": suspend_at + timedelta(days=plan.retention_days),
            },
        )
        if instance is not None and instance.status not in NOT_YET_PROVISIONED:
            engine.request_action(session, instance, actions.SUSPEND, requested_by="billing")
        return "suspending"
    return "grace" if subscription.suspended_at is None else "suspended"


def _announce(session: Session, subscription: Subscription, event_type: str) -> None:
    """The customer's and their sellers' webhook endpoints hear of it (after commit, like the e-mail)."""
    emit(
        session,
        subscription.organization_id,
        event_type,
        {
            "subscription_id": subscription.id,
            "organization_id": subscription.organization_id,
            "status": subscription.status,
            "grace_until": subscription.grace_until.isoformat() if subscription.grace_until else None,
        },
    )


def _tell_customer(session: Session, subscription: Subscription, template: str, context: dict[str, object]) -> None:
    """An e-mail to the customer's owner in their seller's brand, sent only if this change commits."""
    owner = owner_user(session, subscription.organization_id)
    if owner is not None:
        send_after_commit(session, template, owner.email, context, organization_id=subscription.organization_id)


def enforce_timeline(session: Session, now: datetime | None = None) -> int:
    """The periodic job: deadlines pass even when no webhook arrives. A subscription in dunning whose grace runs
    on is left out: `apply` would find nothing to do for it until its grace ends (at 10,000 customers one in ten
    past due, reading them all each minute cost the job queue a second a minute)."""
    now = now or utcnow()
    rows = session.exec(
        select(Subscription).where(
            col(Subscription.status).in_((*DUNNING, "canceled")),
            col(Subscription.terminated_at).is_(None),
            or_(
                col(Subscription.status) == "canceled",
                col(Subscription.grace_until).is_(None),
                col(Subscription.grace_until) <= now,
            ),
        )
    ).all()
    for subscription in rows:
        apply(session, subscription, now=now)
    return len(rows)
