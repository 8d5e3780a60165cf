"""Append-only audit trail. Details are redacted before they get here (see services.audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from services.models.base import json_field, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    actor_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor_label: str = Field(default="", max_length=254)
    # set when staff acted through an impersonation session: the customer's user it was done for
    on_behalf_of_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    action: str = Field(max_length=80, index=True)
    target_type: str | None = Field(default=None, max_length=40)
    target_id: str | None = Field(default=None, max_length=64)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    ip: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = json_field()
    at: datetime = Field(default_factory=utcnow, index=True)
