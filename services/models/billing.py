"""Plans, subscriptions, budgets and the Stripe event store. Money is integer minor units, never float."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models.base import created_field, json_field, text_field


class Plan(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "slug", name="uq_plan_org_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=100)
    slug: str = Field(max_length=64)
    description: str = Field(default="", max_length=500)
    price_cents: int = 0
    currency: str = Field(default="usd", max_length=3)
    interval: str = Field(default="month", max_length=10)
    stripe_price_id: str | None = Field(default=None, max_length=100)
    budget_included_micros: int = 0
    budget_policy: str = Field(default="notify", max_length=20)  # notify | block | suspend
    limits: dict[str, Any] = json_field()
    grace_days: int = 7
    retention_days: int = 30
    app_template_id: int | None = Field(default=None, foreign_key="app_template.id")
    region: str | None = Field(default=None, max_length=40)  # place its instances only on servers of this region
    is_public: bool = True
    sort_order: int = 0
    archived_at: datetime | None = None
    created_at: datetime = created_field()

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0


class Subscription(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    stripe_customer_id: str | None = Field(default=None, max_length=100, index=True)
    stripe_subscription_id: str | None = Field(default=None, max_length=100, unique=True)
    status: str = Field(default="incomplete", max_length=20, index=True)
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    grace_until: datetime | None = None
    suspended_at: datetime | None = None
    canceled_at: datetime | None = None
    terminated_at: datetime | None = None
    checkout_session_id: str | None = Field(default=None, max_length=200, index=True)
    # a downgrade the customer chose: billed at the new price from the next renewal, the new plan's limits from
    # `plan_change_at` (the end of the period it was chosen in); until then the current plan stays in force
    scheduled_plan_id: int | None = None  # a Plan id; no foreign key: SQLite would rebuild the table to add one
    plan_change_at: datetime | None = None
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class Invoice(SQLModel, table=True):
    """Our copy of a Stripe invoice (from its events): what the customer's invoice list, the data export and the
    business's records read, so none of them wait on Stripe. Amounts are minor units, as Stripe gives them."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id", index=True)
    stripe_invoice_id: str = Field(max_length=100, unique=True)
    number: str | None = Field(default=None, max_length=100)
    status: str = Field(default="draft", max_length=20)  # draft | open | paid | void | uncollectible
    currency: str = Field(default="usd", max_length=3)
    total: int = 0
    amount_due: int = 0
    amount_paid: int = 0
    description: str = Field(default="", max_length=500)
    period_start: datetime | None = None
    period_end: datetime | None = None
    hosted_invoice_url: str | None = Field(default=None, max_length=2000)
    invoice_pdf: str | None = Field(default=None, max_length=2000)
    issued_at: datetime = created_field()
    updated_at: datetime = created_field()


class PlanRollout(SQLModel, table=True):
    """A plan edit reaching the plan's existing subscribers a few at a time: new limits applied to the running
    instances (`kind` "limits"), or a new price billed from each subscription's next period ("price"), each
    customer told by e-mail first. `queue` holds what is still to do; `running` the actions now under way."""

    __tablename__ = "plan_rollout"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)  # the seller, whose console shows it
    kind: str = Field(max_length=10)  # limits | price
    total: int = 0
    done: int = 0
    failed: int = 0
    queue: list[Any] = json_field(list)
    running: dict[str, Any] = json_field()
    detail: str = Field(default="", max_length=500)
    started_by: str = Field(default="", max_length=254)
    started_at: datetime = created_field()
    finished_at: datetime | None = Field(default=None, index=True)


class Budget(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id", unique=True)
    total_micros: int = 0
    used_micros: int = 0
    period_start: datetime = created_field()
    reset_at: datetime | None = None
    alerts_sent: list[Any] = json_field(list)


class StripeEvent(SQLModel, table=True):
    __tablename__ = "stripe_event"

    id: int | None = Field(default=None, primary_key=True)
    stripe_id: str = Field(max_length=100, unique=True, index=True)
    type: str = Field(max_length=100, index=True)
    payload: dict[str, Any] = json_field()
    status: str = Field(default="pending", max_length=20, index=True)  # pending | processed | ignored | failed
    attempts: int = 0
    error: str | None = text_field()
    received_at: datetime = created_field()
    processed_at: datetime | None = None


class LocalStripeObject(SQLModel, table=True):
    """Test-mode stand-in for Stripe's side (checkout sessions, customers, subscriptions) when no keys are set."""

    __tablename__ = "local_stripe_object"

    id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(max_length=40)
    data: dict[str, Any] = json_field()
    created_at: datetime = created_field()
