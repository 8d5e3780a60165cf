"""Plan edits reaching existing subscribers, a few at a time, with their progress in the console.

- New limits (memory, CPUs, request rates, the app template): every running instance on the plan gets an
  APPLY_LIMITS action, ROLLING_BATCH at a time, so a plan with a thousand customers never restarts them all at
  once; a failed one is counted and the rollout goes on.
- A new price: new subscriptions get it at once. When the editor chooses so, each existing paid subscription is
  moved to it at Stripe without proration, which bills it from the subscription's next period, and its owner is
  told by e-mail with the date before it happens. Otherwise existing subscribers keep the price they signed up at.

The periodic job `advance_rollouts` moves every unfinished rollout on; starting one also moves it once.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from services import audit
from services.billing.plans import price_said
from services.billing.provider import get_gateway
from services.i18n.message import say
from services.mail.outgoing import send_after_commit
from services.models import Instance, Plan, PlanRollout, ProvisioningAction, Subscription
from services.models.base import key, utcnow
from services.provisioning import actions, engine
from services.tenancy.orgs import owner_user

log = logging.getLogger(__name__)

ROLLING_BATCH = 5
PRICE_BATCH = 20
MAX_PRICE_ATTEMPTS = 3
LIVE = ("running", "stopped", "updating", "starting", "restarting", "stopping")
LIMIT_FIELDS = ("limits", "app_template_id", "budget_policy")


def start_limits(session: Session, plan: Plan, started_by: str) -> PlanRollout | None:
    """Apply the plan's new limits to its running instances, ROLLING_BATCH at a time. None when there are none."""
    instance_ids = session.exec(
        select(col(Instance.id))
        .join(Subscription, col(Subscription.id) == col(Instance.subscription_id))
        .where(
            col(Subscription.plan_id) == plan.id,
            col(Subscription.terminated_at).is_(None),
            col(Instance.status).in_(LIVE),
        )
        .order_by(col(Instance.id))
    ).all()
    return _start(session, plan, "limits", list(instance_ids), started_by, "new limits")


def start_price(session: Session, plan: Plan, old_price_id: str, started_by: str) -> PlanRollout | None:
    """Move existing paid subscriptions still on `old_price_id` to the plan's new price from their next period."""
    subscription_ids = session.exec(
        select(col(Subscription.id))
        .where(
            col(Subscription.plan_id) == plan.id,
            col(Subscription.status).in_(("active", "trialing", "past_due")),
            col(Subscription.stripe_subscription_id).is_not(None),
            col(Subscription.cancel_at_period_end).is_(False),
            col(Subscription.scheduled_plan_id).is_(None),  # a downgrade the customer chose stays theirs
        )
        .order_by(col(Subscription.id))
    ).all()
    detail = f"{old_price_id} → {plan.stripe_price_id} from each subscription's next period"
    return _start(session, plan, "price", [[i, 0] for i in subscription_ids], started_by, detail)


def _start(
    session: Session, plan: Plan, kind: str, queue: list[Any], started_by: str, detail: str
) -> PlanRollout | None:
    if not queue:
        return None
    rollout = PlanRollout(
        plan_id=key(plan),
        organization_id=plan.organization_id,
        kind=kind,
        total=len(queue),
        queue=queue,
        running={},
        detail=detail[:500],
        started_by=started_by[:254],
    )
    session.add(rollout)
    session.flush()
    audit.record(
        session,
        f"plans.rollout_{kind}",
        actor_label=started_by,
        target=("plan", plan.id),
        organization_id=plan.organization_id,
        details={"rollout": rollout.id, "total": rollout.total},
    )
    advance(session, rollout)
    return rollout


def advance_rollouts(session: Session) -> int:
    """Move every unfinished rollout on by one step. Returns how many are still going."""
    going = 0
    for rollout in session.exec(select(PlanRollout).where(col(PlanRollout.finished_at).is_(None))).all():
        advance(session, rollout)
        going += rollout.finished_at is None
    return going


def advance(session: Session, rollout: PlanRollout) -> None:
    if rollout.kind == "limits":
        _advance_limits(session, rollout)
    else:
        _advance_price(session, rollout)
    if not rollout.queue and not rollout.running:
        rollout.finished_at = rollout.finished_at or utcnow()
    session.add(rollout)


def _advance_limits(session: Session, rollout: PlanRollout) -> None:
    running = dict(rollout.running)
    for action_id in list(running):
        row = session.get(ProvisioningAction, action_id)
        if row is None or row.status not in actions.ACTIVE_STATUSES:
            del running[action_id]
            if row is not None and row.status == "succeeded":
                rollout.done += 1
            else:
                rollout.failed += 1
    queue = list(rollout.queue)
    while queue and len(running) < ROLLING_BATCH:
        instance = session.get(Instance, int(queue.pop(0)))
        if instance is None or instance.status not in LIVE:
            rollout.done += 1  # gone or stopped by its owner since: it gets the limits whenever it is deployed
            continue
        action = engine.request_action(session, instance, actions.APPLY_LIMITS, requested_by=f"rollout:{rollout.id}")
        running[action.id] = key(instance)
    rollout.running, rollout.queue = running, queue


def _advance_price(session: Session, rollout: PlanRollout) -> None:
    plan = session.get(Plan, rollout.plan_id)
    assert plan is not None
    queue: list[Any] = []
    for index, (subscription_id, attempts) in enumerate(rollout.queue):
        if index >= PRICE_BATCH:
            queue.append([subscription_id, attempts])
            continue
        subscription = session.get(Subscription, int(subscription_id))
        if (
            subscription is None
            or subscription.plan_id != plan.id
            or not subscription.stripe_subscription_id
            or subscription.scheduled_plan_id is not None
        ):
            rollout.done += 1  # moved to another plan or ended since: nothing to reprice
            continue
        try:
            get_gateway().change_price(
                subscription.stripe_subscription_id,
                plan.stripe_price_id or "",
                idempotency_key=f"portal-reprice-{rollout.id}-{subscription.id}",
                prorate=False,
            )
        except Exception:
            log.warning("repricing subscription %s failed", subscription.id, exc_info=True)
            if attempts + 1 >= MAX_PRICE_ATTEMPTS:
                rollout.failed += 1
            else:
                queue.append([subscription_id, attempts + 1])
            continue
        rollout.done += 1
        _tell_owner(session, subscription, plan)
    rollout.queue = queue


def _tell_owner(session: Session, subscription: Subscription, plan: Plan) -> None:
    owner = owner_user(session, subscription.organization_id)
    if owner is None:
        return
    when = subscription.current_period_end
    send_after_commit(
        session,
        "plan_price_change",
        owner.email,
        {
            "plan": plan.name,
            "new_price": price_said(plan),
            "change_date": when or say("your next renewal"),
        },
        organization_id=subscription.organization_id,
    )


def rollouts_of(session: Session, visible: ColumnElement[bool], limit: int = 20) -> list[dict[str, str]]:
    """The console's view: each rollout the caller may see (`visible`, over PlanRollout), newest first."""
    rows = session.exec(
        select(PlanRollout, Plan)
        .join(Plan, col(Plan.id) == col(PlanRollout.plan_id))
        .where(visible)
        .order_by(col(PlanRollout.id).desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": str(r.id),
            "plan": p.name,
            "kind": "New limits" if r.kind == "limits" else "New price",
            "progress": f"{r.done + r.failed} of {r.total}",
            "percent": str(int(100 * (r.done + r.failed) / r.total) if r.total else 100),
            "failed": str(r.failed),
            "state": "done" if r.finished_at else "running",
            "detail": r.detail,
        }
        for r, p in rows
    ]
