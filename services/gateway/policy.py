"""What each gateway key may do now: the one decision the gateway's hook enforces on every request.

Computed here from the instance, its subscription, its plan and its budget, so the hook itself only reads a
small record (services/gateway/cache.py) and never the portal's database."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from services.gateway.keys import SCOPE, models_in
from services.models import ApiToken, Budget, Instance, Plan, Subscription

ACTIVE, BLOCKED, SUSPENDED = "active", "blocked", "suspended"
STOPPED_INSTANCE = ("suspending", "suspended", "deprovisioning", "deprovisioned")
ENDED_SUBSCRIPTION = ("canceled", "incomplete_expired", "unpaid")


@dataclass(frozen=True)
class KeyPolicy:
    """One key's rules. `used_micros` is the budget counter when this was written: the hook adds what it has sent
    since, so the request after the one that crosses 100 % is refused before its usage has reached the portal."""

    instance_id: int
    organization_id: int
    state: str
    reason: str = ""
    models: list[str] = field(default_factory=list)
    rpm: int | None = None
    tpm: int | None = None
    budget_policy: str = "notify"
    total_micros: int | None = None
    used_micros: int = 0
    written_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _limit(limits: dict[str, Any], name: str) -> int | None:
    value = limits.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def decide(
    instance: tuple[int, int, str],
    subscription_status: str | None,
    plan_limits: dict[str, Any] | None,
    budget_policy: str,
    currency: str,
    budget: tuple[int, int] | None,
) -> KeyPolicy:
    """The rules for one key from the rows it depends on (pure: tested without a database)."""
    instance_id, organization_id, status = instance
    limits = plan_limits or {}
    models = models_in(limits)
    state, reason = ACTIVE, ""
    if status in STOPPED_INSTANCE:
        state, reason = SUSPENDED, f"the instance is {status}"
    elif subscription_status in ENDED_SUBSCRIPTION or subscription_status is None:
        state, reason = SUSPENDED, "the subscription is not active"
    elif not models:
        state, reason = BLOCKED, "the plan includes no AI models"
    elif budget is not None and budget_policy in ("block", "suspend") and budget[1] >= budget[0]:
        state = BLOCKED
        reason = "the budget for this period is used up; it resets with the next period or a plan change"
    return KeyPolicy(
        instance_id=instance_id,
        organization_id=organization_id,
        state=state,
        reason=reason,
        models=models,
        rpm=_limit(limits, "ai_rpm"),
        tpm=_limit(limits, "ai_tpm"),
        budget_policy=budget_policy,
        total_micros=budget[0] if budget is not None else None,
        used_micros=budget[1] if budget is not None else 0,
        written_at=time.time(),
    )


def key_policies(session: Session, instance_ids: Iterable[int] | None = None) -> dict[str, KeyPolicy]:
    """The live gateway keys (of `instance_ids`, or all) by hash, with their rules: one query."""
    query = (
        sa_select(
            col(ApiToken.token_hash),
            col(Instance.id),
            col(Instance.organization_id),
            col(Instance.status),
            col(Subscription.status),
            col(Plan.limits),
            col(Plan.budget_policy),
            col(Plan.currency),
            col(Budget.total_micros),
            col(Budget.used_micros),
        )
        .join(Instance, col(Instance.id) == col(ApiToken.instance_id))
        .outerjoin(Subscription, col(Subscription.id) == col(Instance.subscription_id))
        .outerjoin(Plan, col(Plan.id) == col(Subscription.plan_id))
        .outerjoin(Budget, col(Budget.subscription_id) == col(Subscription.id))
        .where(col(ApiToken.scopes) == SCOPE, col(ApiToken.revoked_at).is_(None))
    )
    if instance_ids is not None:
        ids = sorted(set(instance_ids))
        if not ids:
            return {}
        query = query.where(col(Instance.id).in_(ids))
    found = {}
    for token_hash, iid, org, status, sub_status, limits, policy, currency, total, used in session.execute(query):
        budget = (total, used) if total is not None else None
        found[token_hash] = decide(
            (iid, org, status), sub_status, limits, policy or "notify", currency or "usd", budget
        )
    return found


def key_status(session: Session, instance_id: int, plan_limits: dict[str, Any] | None) -> dict[str, str]:
    """What the console shows of an instance's gateway key: its prefix, state and why, and the plan's models."""
    models = ", ".join(models_in(plan_limits)) or "none"
    prefix = session.execute(
        sa_select(col(ApiToken.prefix)).where(
            col(ApiToken.instance_id) == instance_id, col(ApiToken.scopes) == SCOPE, col(ApiToken.revoked_at).is_(None)
        )
    ).scalar()
    rules = next(iter(key_policies(session, [instance_id]).values()), None)
    if prefix is None or rules is None:
        return {"key": "none", "state": "no key", "reason": "", "models": models}
    return {"key": f"{prefix}…", "state": rules.state, "reason": rules.reason, "models": models}
