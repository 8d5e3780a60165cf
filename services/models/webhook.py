"""Outbound webhooks: endpoints organizations register, the events that happened (an outbox written in the same
transaction as the change), and each delivery of an event to an endpoint with every attempt logged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models.base import created_field, json_field, text_field


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    event_types: list[Any] = json_field(list)
    secret_encrypted: str = text_field("", nullable=False)
    # after a rotation the old secret signs too (a second signature) until this moment, so receivers can switch
    previous_secret_encrypted: str | None = text_field()
    previous_secret_until: datetime | None = None
    enabled: bool = True
    disabled_reason: str = Field(default="", max_length=300)
    consecutive_failures: int = 0
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = created_field()


class WebhookEvent(SQLModel, table=True):
    """Something that happened to an organization; `msg_id` is the Standard Webhooks message id (stable on replay)."""

    __tablename__ = "webhook_event"

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(max_length=64, unique=True, index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    type: str = Field(max_length=60, index=True)
    payload: dict[str, Any] = json_field()
    occurred_at: datetime = created_field()
    fanned_out_at: datetime | None = Field(default=None, index=True)


class WebhookDelivery(SQLModel, table=True):
    """One event to one endpoint: pending until it succeeds, retried with backoff for about three days."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_delivery_endpoint_event"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: int = Field(foreign_key="webhook_event.id", index=True)
    status: str = Field(default="pending", max_length=20)  # pending | succeeded | failed (gave up) | skipped
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = created_field()
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: what was sent and what came back, each time."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    attempted_at: datetime = created_field()
    request_headers: dict[str, Any] = json_field()
    status_code: int | None = None
    response_excerpt: str = text_field("", nullable=False)
    duration_ms: int = 0
    error: str = Field(default="", max_length=500)
