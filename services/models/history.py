"""What happened over time, kept small: one row per instance per day for uptime, one per seller, day and status
for the count of instances. Charts read these instead of replaying every action and every check."""

from __future__ import annotations

from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class UptimeDay(SQLModel, table=True):
    """One instance's health checks on one UTC day: how many the minute's reconciler made while the instance was
    meant to run, and how many found it running. The dashboard's 30-day strip is 30 of these rows."""

    __tablename__ = "uptime_day"
    __table_args__ = (UniqueConstraint("instance_id", "day", name="uq_uptime_day_instance_day"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="instance.id", index=True)
    day: date
    checks: int = 0
    up: int = 0


class InstanceStatusDay(SQLModel, table=True):
    """How many instances of one seller's customers were in each status at the day's last count (hourly, the
    day's row overwritten). Keyed by the seller so a reseller's chart reads only its own subtree's rows."""

    __tablename__ = "instance_status_day"
    __table_args__ = (UniqueConstraint("day", "seller_id", "status", name="uq_instance_status_day"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    seller_id: int = Field(foreign_key="organization.id", index=True)
    status: str = Field(max_length=20)
    count: int = 0
