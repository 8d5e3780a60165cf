"""The customer's usage table and CSV export, for their own instance only."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from services.customer.scope import own_instance
from services.models import Budget, Instance
from services.models.base import key, utcnow
from services.tenancy.scope import Customer
from services.usage.reports import CHART_DAYS, recent_records, records_csv


def period_start(session: Session, instance: Instance) -> datetime:
    """The current budget period's start, or the chart's window when the plan has no budget."""
    budget = session.exec(select(Budget).where(col(Budget.subscription_id) == instance.subscription_id)).first()
    return budget.period_start if budget else utcnow() - timedelta(days=CHART_DAYS)


def usage_page(
    session: Session, who: Customer | None, instance_id: int, page: int
) -> tuple[list[dict[str, str]], bool]:
    instance = own_instance(session, who, instance_id, capability="status", attempted="usage.list")
    return recent_records(session, key(instance), page)


def usage_csv(session: Session, who: Customer | None, instance_id: int) -> tuple[str, str]:
    """(file name, CSV text) of this period's records."""
    instance = own_instance(session, who, instance_id, capability="status", attempted="usage.export")
    since = period_start(session, instance)
    return (f"usage-{instance.subdomain}-{since:%Y%m%d}.csv", records_csv(session, key(instance), since))
