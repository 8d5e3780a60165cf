"""What the API answers, as models: the OpenAPI document is generated from them and every answer conforms."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from services.webhooks.outbox import EVENT_TYPES

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class Me(BaseModel):
    token_id: int
    organization_id: int
    user_id: int
    acting_as: Literal["staff", "customer"]
    role: str
    scopes: list[str]


class Organization(BaseModel):
    id: int
    name: str
    slug: str
    kind: str
    parent_id: int | None
    status: str
    created_at: str | None


class Instance(BaseModel):
    id: int
    organization_id: int
    subdomain: str
    url: str
    backend: str
    status: str
    desired_state: str
    created_at: str | None
    updated_at: str | None


class Subscription(BaseModel):
    id: int
    organization_id: int
    plan_id: int
    status: str
    current_period_end: str | None
    cancel_at_period_end: bool
    created_at: str | None


class Plan(BaseModel):
    id: int
    organization_id: int
    slug: str
    name: str
    description: str
    price_cents: int
    currency: str
    interval: str
    budget_included: str
    budget_policy: str
    is_public: bool


class UsageRecord(BaseModel):
    id: int
    instance_id: int
    model: str
    tokens_in: int
    tokens_out: int
    cost: str
    occurred_at: str | None
    idempotency_key: str


class UsageDay(BaseModel):
    day: str
    model: str
    tokens_in: int
    tokens_out: int
    cost: str
    records: int


class UsageTotal(BaseModel):
    model: str
    tokens_in: str
    tokens_out: str
    cost: str
    records: str


class Budget(BaseModel):
    instance_id: int
    total: str | None
    used: str | None
    remaining: str | None
    reset_at: str | None


class AuditEvent(BaseModel):
    id: int
    at: str | None
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    organization_id: int | None
    details: dict[str, Any]


class Logs(BaseModel):
    instance_id: int
    logs: str


class ActionAccepted(BaseModel):
    action_id: str
    instance: Instance


class OrganizationPage(BaseModel):
    items: list[Organization]
    next_cursor: str | None


class InstancePage(BaseModel):
    items: list[Instance]
    next_cursor: str | None


class SubscriptionPage(BaseModel):
    items: list[Subscription]
    next_cursor: str | None


class UsageRecordPage(BaseModel):
    items: list[UsageRecord]
    next_cursor: str | None


class AuditEventPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=254)
    username: str = Field(min_length=1, max_length=64)
    plan: str = Field(min_length=1, max_length=64)


class CustomerCreated(BaseModel):
    organization: Organization
    instance: Instance
    checkout_url: str | None
    invitation_id: int


class WebhookEndpoint(BaseModel):
    id: int
    organization_id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str
    created_at: str


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    event_types: list[EventType] = Field(min_length=1, max_length=20)
    description: str = Field(default="", max_length=200)


class WebhookEndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000, pattern=r"^https?://")
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class WebhookEndpointCreated(BaseModel):
    endpoint: WebhookEndpoint
    secret: str


class WebhookSecret(BaseModel):
    secret: str


class Delivery(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: str | None
    delivered_at: str | None
    created_at: str


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None
