"""Scheduled backups: each running instance on a backend with volumes gets one per its plan's interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.backups.snapshots import new_backup
from services.models import AppTemplate, Backup, Instance, Plan, Subscription
from services.models.base import key, utcnow
from services.provisioning import actions, engine

DEFAULT_INTERVAL_HOURS = 24.0
MAX_PER_PASS = 200  # a pass queues at most this many: a thousand instances due at once are spread over passes


def interval_hours(plan: Plan | None) -> float:
    """The plan's `backup_interval_hours` (0 turns scheduled backups off), else daily."""
    raw = (plan.limits if plan else {}).get("backup_interval_hours")
    try:
        return DEFAULT_INTERVAL_HOURS if raw in (None, "") else max(0.0, float(raw))
    except (TypeError, ValueError):
        return DEFAULT_INTERVAL_HOURS


def queue_due_backups(session: Session) -> int:
    """Request a backup for every running Docker instance whose newest backup is older than its plan's interval."""
    now = utcnow()
    newest = (
        select(col(Backup.instance_id), func.max(col(Backup.created_at)).label("at"))
        .where(col(Backup.status) != "failed")
        .group_by(col(Backup.instance_id))
        .subquery()
    )
    rows = session.exec(
        select(Instance, Plan, newest.c.at)
        .join(AppTemplate, col(AppTemplate.id) == col(Instance.app_template_id))
        .join(Subscription, col(Subscription.id) == col(Instance.subscription_id))
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .outerjoin(newest, newest.c.instance_id == col(Instance.id))
        .where(col(Instance.status) == "running", col(AppTemplate.backend) == "docker")
        .order_by(newest.c.at.is_(None).desc(), newest.c.at)
    ).all()
    queued = 0
    for instance, plan, last in rows:
        hours = interval_hours(plan)
        if hours <= 0:
            continue
        if last is not None and _aware(last) > now - timedelta(hours=hours):
            continue
        if engine.active_action(session, key(instance)) is not None:
            continue
        backup = new_backup(session, instance, "scheduled")
        engine.request_action(
            session, instance, actions.BACKUP, requested_by="schedule", params={"backup_id": backup.id}
        )
        queued += 1
        if queued >= MAX_PER_PASS:
            break
    return queued


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
