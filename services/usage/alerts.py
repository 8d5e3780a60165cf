"""Budget alerts at 50 %, 80 % and 100 %, each once per budget period, and the plan's policy at 100 %.

Checked in the same transaction that moves the budget counter, right after the counter's UPDATE: that UPDATE
holds the budget row's lock until commit (PostgreSQL) or the database's write lock (SQLite), so two batches
crossing a threshold at the same time cannot both send its alert. `alerts_sent` is emptied when a new period
begins (services/billing/budgets.py), which re-arms every threshold.

Coverage: a budget without subscription, plan or instance, and a customer organization without an owner, only
arise from a half-deleted tree; both return quietly (tested paths send the alert) rather than raise mid-ingest.
"""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from services.i18n import N_
from services.i18n.message import Amount, Message, say
from services.mail.outgoing import send_after_commit
from services.models import Budget, Instance, Plan, Subscription
from services.money import micros_as_decimal, shown_cents
from services.ops import metrics
from services.provisioning import actions, engine
from services.tenancy.orgs import owner_user
from services.webhooks.outbox import emit

log = logging.getLogger(__name__)

THRESHOLDS = (50, 80, 100)
POLICIES = ("notify", "block", "suspend")
# what happens at 100 %, said once it has happened and said ahead of it (two sentences each, not one sentence cut
# into fragments: a language that builds the sentence differently can then say both)
CONSEQUENCES = {
    "notify": N_("Your instance keeps running; usage beyond the budget is billed with your next invoice."),
    "block": N_("Your instance can no longer use paid models until the budget resets or you change your plan."),
    "suspend": N_(
        "Your instance has been suspended until the budget resets or you change your plan. Your data is kept."
    ),
}
AHEAD = {
    "notify": N_(
        "When the whole budget is used, your instance keeps running and usage beyond it is billed with your next "
        "invoice."
    ),
    "block": N_(
        "When the whole budget is used, your instance can no longer use paid models until the budget resets or "
        "you change your plan."
    ),
    "suspend": N_(
        "When the whole budget is used, your instance is suspended until the budget resets or you change your "
        "plan. Your data is kept."
    ),
}


def consequence(plan: Plan, percent: int) -> Message:
    said = CONSEQUENCES if percent >= 100 else AHEAD
    return say(said.get(plan.budget_policy, said["notify"]))


def percent_used(total_micros: int, used_micros: int) -> int:
    """Whole percent, rounded down, so 79.99 % never counts as 80 %. A budget of 0 is used up by any usage."""
    if total_micros <= 0:
        return 100 if used_micros > 0 else 0
    return used_micros * 100 // total_micros


def newly_crossed(total_micros: int, used_micros: int, already: list[int]) -> list[int]:
    reached = percent_used(total_micros, used_micros)
    return [t for t in THRESHOLDS if reached >= t and t not in already]


def check_budget(session: Session, budget_id: int) -> list[int]:
    """Record and announce the thresholds this counter has just crossed; apply the 100 % policy."""
    budget = session.exec(
        select(Budget).where(col(Budget.id) == budget_id).execution_options(populate_existing=True)
    ).one()  # the counter was moved in SQL
    crossed = newly_crossed(budget.total_micros, budget.used_micros, list(budget.alerts_sent or []))
    if not crossed:
        return []
    budget.alerts_sent = sorted({*(budget.alerts_sent or []), *crossed})
    session.add(budget)
    subscription = session.get(Subscription, budget.subscription_id)
    plan = session.get(Plan, subscription.plan_id) if subscription else None
    instance = session.exec(select(Instance).where(col(Instance.subscription_id) == budget.subscription_id)).first()
    if subscription is None or plan is None or instance is None:
        return crossed
    if _notify(session, budget, plan, instance, max(crossed)):
        metrics.BUDGET_ALERTS.labels(str(max(crossed))).inc()
    emit(
        session,
        instance.organization_id,
        "budget.threshold_reached",
        {
            "instance_id": instance.id,
            "percent": max(crossed),
            "used": str(micros_as_decimal(budget.used_micros)),
            "total": str(micros_as_decimal(budget.total_micros)),
            "policy": plan.budget_policy,
        },
    )
    if 100 in crossed and plan.budget_policy == "suspend" and instance.status not in ("suspended", "deprovisioned"):
        engine.request_action(session, instance, actions.SUSPEND, requested_by="budget")
        log.info("instance %s suspended: budget used up (plan policy)", instance.subdomain)
    return crossed


def _notify(session: Session, budget: Budget, plan: Plan, instance: Instance, percent: int) -> bool:
    owner = owner_user(session, instance.organization_id)
    if owner is None:
        return False
    send_after_commit(
        session,
        "budget_alert",
        owner.email,
        {
            "percent": percent,
            "subdomain": instance.subdomain,
            "used": Amount(shown_cents(budget.used_micros), plan.currency),
            "total": Amount(shown_cents(budget.total_micros), plan.currency),
            "consequence": consequence(plan, percent),
            "reset_date": budget.reset_at or say("the next billing date"),
        },
        organization_id=instance.organization_id,
    )
    return True


def banner(budget: Budget, plan: Plan) -> str:
    """What the dashboard says once a threshold of this period has been crossed ("" before that), as a message
    the dashboard says in its own language."""
    sent = list(budget.alerts_sent or [])
    if not sent:
        return ""
    if max(sent) >= 100:
        return say("You have used your whole budget for this period. {then}", then=consequence(plan, 100))
    percent = percent_used(budget.total_micros, budget.used_micros)
    return say(
        "You have used {percent} % of your budget for this period. {then}",
        percent=percent,
        then=consequence(plan, percent),
    )


def budget_holds_instance(session: Session, subscription: Subscription, plan: Plan) -> bool:
    """A plan that suspends at 100 % keeps the instance suspended until the budget resets or grows."""
    if plan.budget_policy != "suspend":
        return False
    budget = session.exec(select(Budget).where(col(Budget.subscription_id) == subscription.id)).first()
    return budget is not None and percent_used(budget.total_micros, budget.used_micros) >= 100
