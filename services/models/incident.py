"""Incidents: something broke that staff must look at (a parked action, a webhook event that ran out of retries,
a Docker engine or Coolify server that stopped answering). One open row per thing, however often it recurs, so
staff get one e-mail per incident and not one per retry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from services.models.base import utcnow


class Incident(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (
        # at most one open incident per (kind, key): the database, not a read-then-write, keeps it one
        Index(
            "uq_incident_open",
            "kind",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # action_parked | webhook_failed | backend_down
    key: str = Field(max_length=200)  # what it is about: an action id, a Stripe event id, a backend's address
    # the customer organization it concerns; None for the platform as a whole (a backend, a Stripe event)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    title: str = Field(max_length=200)
    detail: str = Field(default="", max_length=2000)
    occurrences: int = 1
    opened_at: datetime = Field(default_factory=utcnow, index=True)
    last_seen_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = Field(default=None, index=True)
