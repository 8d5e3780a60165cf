"""The tenant tree (platform > reseller > sub-reseller > customer) and what hangs off each node."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from services.models.base import created_field, json_field, text_field


class OrgKind:
    PLATFORM = "platform"
    RESELLER = "reseller"
    SUB_RESELLER = "sub_reseller"
    CUSTOMER = "customer"
    ALL = (PLATFORM, RESELLER, SUB_RESELLER, CUSTOMER)


class Role:
    OWNER = "owner"
    ADMIN = "admin"
    SUPPORT = "support"
    BILLING = "billing"
    MEMBER = "member"
    ALL = (OWNER, ADMIN, SUPPORT, BILLING, MEMBER)


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    slug: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=20, index=True)
    parent_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    status: str = Field(default="active", max_length=20)
    created_at: datetime = created_field()


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("user_id", "organization_id", name="uq_membership_user_org"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    role: str = Field(max_length=20)
    created_at: datetime = created_field()


class Branding(SQLModel, table=True):
    """Overrides for one organization; unset fields are inherited from the parent."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    platform_name: str | None = Field(default=None, max_length=120)
    logo_url: str | None = Field(default=None, max_length=500)
    favicon_url: str | None = Field(default=None, max_length=500)
    accent_color: str | None = Field(default=None, max_length=20)
    gray_color: str | None = Field(default=None, max_length=20)
    radius: str | None = Field(default=None, max_length=20)
    custom_css: str | None = text_field()
    support_email: str | None = Field(default=None, max_length=254)
    footer_text: str | None = Field(default=None, max_length=500)
    hide_platform_branding: bool = False
    language: str | None = Field(default=None, max_length=8)  # for visitors whose browser asks for none we speak
    email_templates: dict[str, Any] = json_field()  # "welcome" for every language, "de/welcome" for German only
    words: dict[str, Any] = json_field()  # per language, the seller's own text for a built-in one (branding/words.py)
    # e-mail goes out From this address once the seller proved it controls its domain (a DNS TXT record)
    sender_email: str | None = Field(default=None, max_length=254)
    sender_token: str | None = Field(default=None, max_length=64)
    sender_verified_at: datetime | None = None


class DomainStatus:
    """Where a claimed domain stands, step by step, as its owner sees it."""

    WAITING_DNS = "waiting_dns"  # the records are not (all) there yet; `message` says what was found
    WRONG_RECORDS = "wrong_records"  # a record is there but wrong (another target, a CAA that forbids our CA)
    VERIFIED = "verified"  # ownership and routing proven: the edge routes it
    CERTIFICATE = "certificate"  # the edge holds a certificate for it
    SERVING = "serving"  # a request over HTTPS reached the instance (or the portal)
    FAILING = "failing"  # stopped proving since `failing_since`; still served until the grace period ends
    FAILED = "failed"  # never proven in time, lapsed after the grace period, or refused (`message` says why)
    ROUTED = (VERIFIED, CERTIFICATE, SERVING, FAILING)


class Domain(SQLModel, table=True):
    """A host name someone claims: a seller's portal domain (instance_id empty), served in its brand, or a
    customer's domain for their instance. One row per claim; the brand lookup reads verified rows by host in
    O(1). A host is served only once proven (verified_at) by a DNS TXT record with `token`, and only one verified
    claim per host can exist (a partial unique index), so an unproven claim never blocks the real owner."""

    __table_args__ = (
        UniqueConstraint("hostname", "organization_id", name="uq_domain_claim"),
        Index(
            "uq_domain_verified_hostname",
            "hostname",
            unique=True,
            sqlite_where=text("verified_at IS NOT NULL"),
            postgresql_where=text("verified_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    hostname: str = Field(max_length=253, index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    instance_id: int | None = Field(default=None, foreign_key="instance.id", index=True)
    token: str = Field(default="", max_length=64)
    status: str = Field(default=DomainStatus.WAITING_DNS, max_length=20)
    message: str = Field(default="", max_length=500)
    verified_at: datetime | None = None
    failing_since: datetime | None = None
    checked_at: datetime | None = None
    next_check_at: datetime | None = None
    check_delay_seconds: float = 0.0
    created_at: datetime = created_field()


class ConnectedAccount(SQLModel, table=True):
    """A seller's own Stripe account (Stripe Connect), where its customers' payments go, less the platform's fee.
    `status`: details_missing (onboarding not finished), pending (Stripe is checking), enabled (charges and
    payouts on), restricted (Stripe disabled it: `disabled_reason` says why). Kept from Stripe's account object."""

    __tablename__ = "connected_account"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", unique=True)
    stripe_account_id: str = Field(max_length=100, unique=True)
    status: str = Field(default="details_missing", max_length=20)
    charges_enabled: bool = False
    payouts_enabled: bool = False
    details_submitted: bool = False
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class Licence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    tier: str = Field(max_length=40)
    features: list[Any] = json_field(list)
    max_customers: int | None = None
    max_instances: int | None = None
    max_domains: int | None = None
    authorized_domains: list[Any] = json_field(list)
    expires_at: datetime | None = None
    grace_days: int = 14  # after expiry: a banner, and signups still work; then new customers and instances stop
    # the platform's share of what the seller's customers pay once the seller's own Stripe account takes the
    # payments (Stripe Connect), in hundredths of a percent: 1250 = 12.5 %
    application_fee_bps: int = 0
    status: str = Field(default="active", max_length=20)
    created_at: datetime = created_field()
