"""The console's customers: the overview figures, the searchable list, and one customer's whole picture.

Every query is limited by `scope.visible` (the actor's subtree) and every lookup of one customer by
`scope.authorise`, so a reseller cannot reach another reseller's customer by guessing an id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.gateway.policy import key_status
from services.models import (
    AuditEvent,
    Budget,
    Instance,
    Membership,
    Organization,
    OrgKind,
    Plan,
    ProvisioningAction,
    StripeEvent,
    Subscription,
    User,
)
from services.models.base import key
from services.money import format_cents
from services.tenancy.scope import Actor, authorise, visible
from services.usage.reports import model_totals, money

PAGE_SIZE = 25
SORTS: dict[str, Any] = {
    "newest": col(Organization.created_at).desc(),
    "oldest": col(Organization.created_at).asc(),
    "name": col(Organization.name).asc(),
}
SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due", "unpaid", "canceled", "incomplete")


def overview(session: Session, actor: Actor | None) -> dict[str, Any]:
    """Customers, active subscriptions, monthly recurring revenue, instances by status, work that needs a look."""
    checked = authorise(session, actor, "view", action="admin.overview", target=("organization", "*"))
    customers = session.exec(
        select(func.count())
        .select_from(Organization)
        .where(col(Organization.kind) == OrgKind.CUSTOMER, visible(checked, col(Organization.id)))
    ).one()
    active = session.exec(
        select(func.count(), func.coalesce(func.sum(col(Plan.price_cents)), 0), col(Plan.currency))
        .select_from(Subscription)
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .where(
            col(Subscription.status).in_(("active", "trialing")),
            col(Plan.interval) == "month",
            visible(checked, col(Subscription.organization_id)),
        )
        .group_by(col(Plan.currency))
    ).all()
    by_status = dict(
        session.exec(
            select(col(Instance.status), func.count())
            .where(visible(checked, col(Instance.organization_id)))
            .group_by(col(Instance.status))
        ).all()
    )
    parked = session.exec(
        select(func.count())
        .select_from(ProvisioningAction)
        .join(Instance, col(Instance.id) == col(ProvisioningAction.instance_id))
        .where(col(ProvisioningAction.status) == "parked", visible(checked, col(Instance.organization_id)))
    ).one()
    result: dict[str, Any] = {
        "customers": int(customers),
        "active_subscriptions": sum(int(n) for n, _, _ in active),
        "mrr": ", ".join(format_cents(int(cents), currency) for _, cents, currency in active) or "0",
        "instances_by_status": [{"status": k, "count": int(v)} for k, v in sorted(by_status.items())],
        "parked_actions": int(parked),
        "webhooks_waiting": 0,
        "webhooks_failed": 0,
    }
    if checked.is_platform:  # Stripe events belong to the platform as a whole
        counts = dict(
            session.exec(
                select(col(StripeEvent.status), func.count())
                .where(col(StripeEvent.status).in_(("pending", "failed")))
                .group_by(col(StripeEvent.status))
            ).all()
        )
        result["webhooks_waiting"], result["webhooks_failed"] = (
            int(counts.get("pending", 0)),
            int(counts.get("failed", 0)),
        )
    return result


def list_customers(
    session: Session,
    actor: Actor | None,
    *,
    search: str = "",
    status: str = "",
    plan: str = "",
    sort: str = "newest",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[dict[str, str]], int]:
    """One page of the actor's customers with their owner, plan, subscription and instance; and the total."""
    checked = authorise(session, actor, "view", action="customers.list", target=("organization", "*"))
    if status and status not in SUBSCRIPTION_STATUSES:
        raise ValueError(f"Unknown subscription status {status!r}.")
    if sort not in SORTS:
        raise ValueError(f"Unknown sort {sort!r}.")
    # The owner is the organization's first member: a correlated lookup per row on membership's index, instead
    # of grouping every membership of the platform for each page.
    owner_id = (
        select(func.min(col(Membership.user_id)))
        .where(col(Membership.organization_id) == col(Organization.id))
        .correlate(Organization)
        .scalar_subquery()
    )
    conditions = [col(Organization.kind) == OrgKind.CUSTOMER, visible(checked, col(Organization.id))]
    if search.strip():
        like = f"%{search.strip().lower()}%"
        conditions.append(
            or_(
                func.lower(col(Organization.name)).like(like),
                col(Organization.slug).like(like),
                col(User.email).like(like),
            )
        )
    if status:
        conditions.append(col(Subscription.status) == status)
    if plan:
        conditions.append(col(Plan.slug) == plan)

    def matching(*columns: Any) -> Any:
        """The rows the filters keep, joined only as far as the filters need."""
        query = sa_select(*columns).select_from(Organization)
        query = query.outerjoin(Subscription, col(Subscription.organization_id) == col(Organization.id))
        if plan:
            query = query.outerjoin(Plan, col(Plan.id) == col(Subscription.plan_id))
        if search.strip():
            query = query.outerjoin(User, col(User.id) == owner_id)
        return query.where(*conditions)

    total = session.exec(select(func.count()).select_from(matching(col(Organization.id)).subquery())).one()
    page = min(max(page, 1), 10_000)
    # one page of (organization, subscription) first, ordered and cut in the database; then its details
    keys = session.execute(
        matching(col(Organization.id), col(Subscription.id))
        .order_by(SORTS[sort], col(Organization.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    if not keys:
        return [], int(total)
    details = session.execute(
        sa_select(Organization, Subscription, Plan, Instance, User)
        .outerjoin(Subscription, col(Subscription.organization_id) == col(Organization.id))
        .outerjoin(Plan, col(Plan.id) == col(Subscription.plan_id))
        .outerjoin(Instance, col(Instance.subscription_id) == col(Subscription.id))
        .outerjoin(User, col(User.id) == owner_id)
        .where(col(Organization.id).in_({org_id for org_id, _ in keys}))
    ).all()
    by_key: dict[tuple[int, int | None], list[Any]] = {}
    for row in details:
        by_key.setdefault((row[0].id, row[1].id if row[1] else None), []).append(row)
    rows = [row for org_id, sub_id in keys for row in by_key.get((org_id, sub_id), [])[:1]]
    return [
        {
            "id": str(org.id),
            "name": org.name,
            "slug": org.slug,
            "email": user.email if user else "",
            "plan": plan_row.name if plan_row else "",
            "subscription": sub.status if sub else "",
            "instance": instance.status if instance else "",
            "instance_id": str(instance.id) if instance else "",
            "created_at": org.created_at.strftime("%Y-%m-%d"),
        }
        for org, sub, plan_row, instance, user in rows
    ], int(total)


def customer_detail(session: Session, actor: Actor | None, organization_id: int) -> dict[str, Any]:
    """Organization, users, subscription, instance, provisioning history and audit trail of one customer."""
    org = session.get(Organization, organization_id)
    checked = authorise(
        session,
        actor,
        "view",
        action="customers.detail",
        target=("organization", organization_id),
        organization_id=org.id if org and org.kind == OrgKind.CUSTOMER else -1,
    )
    assert org is not None
    users = session.exec(
        select(User, Membership)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(col(Membership.organization_id) == org.id)
    ).all()
    sub = session.exec(
        select(Subscription).where(col(Subscription.organization_id) == org.id).order_by(col(Subscription.id).desc())
    ).first()
    instance = session.exec(select(Instance).where(col(Instance.organization_id) == org.id)).first()
    actions = session.exec(
        select(ProvisioningAction)
        .where(col(ProvisioningAction.instance_id) == (instance.id if instance else -1))
        .order_by(col(ProvisioningAction.created_at).desc())
        .limit(20)
    ).all()
    trail = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.organization_id) == org.id)
        .order_by(col(AuditEvent.at).desc())
        .limit(50)
    ).all()
    parent = session.get(Organization, org.parent_id) if org.parent_id else None
    budget = session.exec(select(Budget).where(col(Budget.subscription_id) == sub.id)).first() if sub else None
    usage = model_totals(session, key(instance), budget.period_start) if instance and budget else []
    plan = session.get(Plan, sub.plan_id) if sub else None
    return {
        "ai_gateway": key_status(session, key(instance), plan.limits if plan else None) if instance else {},
        "usage": usage,
        "budget": {"used": money(budget.used_micros), "total": money(budget.total_micros)} if budget else {},
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "seller": parent.name if parent else "",
        "users": [
            {"id": str(u.id), "email": u.email, "username": u.username, "role": m.role, "status": u.status}
            for u, m in users
        ],
        "subscription": {
            "status": sub.status,
            "plan_id": sub.plan_id,
            "period_end": sub.current_period_end.strftime("%Y-%m-%d") if sub.current_period_end else "",
        }
        if sub
        else {},
        "instance": {
            "id": instance.id,
            "subdomain": instance.subdomain,
            "status": instance.status,
            "backend": instance.backend,
        }
        if instance
        else {},
        "actions": [
            {
                "action": a.action,
                "status": a.status,
                "error": a.last_error or "",
                "at": a.created_at.strftime("%Y-%m-%d %H:%M"),
            }
            for a in actions
        ],
        "audit": [{"action": e.action, "actor": e.actor_label, "at": e.at.strftime("%Y-%m-%d %H:%M")} for e in trail],
        "viewer": checked.email,
    }


def audit_log(
    session: Session,
    actor: Actor | None,
    *,
    action: str = "",
    actor_label: str = "",
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    """Audit events of the actor's subtree (the platform also sees events without an organization)."""
    checked = authorise(session, actor, "view", action="audit.list", target=("audit_event", "*"))
    conditions = [visible(checked, col(AuditEvent.organization_id))]
    if checked.is_platform:
        conditions = [or_(col(AuditEvent.organization_id).is_(None), visible(checked, col(AuditEvent.organization_id)))]
    if action:
        conditions.append(col(AuditEvent.action).like(f"{action}%"))
    if actor_label:
        conditions.append(col(AuditEvent.actor_label).like(f"%{actor_label}%"))
    query = select(AuditEvent).where(*conditions)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((max(page, 1) - 1) * page_size)
        .limit(page_size)
    ).all()
    return [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.actor_label,
            "action": e.action,
            "target": f"{e.target_type or ''} {e.target_id or ''}".strip(),
            "ip": e.ip or "",
            "details": ", ".join(f"{k}={v}" for k, v in (e.details or {}).items())[:300],
        }
        for e in rows
    ], int(total)
