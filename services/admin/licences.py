"""Licences from the console (the rules themselves: services/tenancy/licences.py).

Platform staff set a reseller's licence: tier, features, limits, expiry with grace days, authorised domains.
Sellers add their own portal domains within it (services/admin/domains.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from services import audit
from services.errors import ValidationFailed
from services.forms import parse
from services.i18n.catalog import N_
from services.models import Licence, Organization, OrgKind
from services.models.base import key
from services.tenancy import hostnames
from services.tenancy.licences import FEATURES, SELLER_KINDS, active_licence, state
from services.tenancy.scope import Actor, authorise, subtree_ids

MAX_GRACE_DAYS = 365


def _listed(value: Any) -> list[str]:
    """A list, or the comma-separated text a console field holds."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [str(item).strip() for item in items if str(item).strip()]


def _host(host: str) -> str:
    clean = hostnames.normalise_host(host)
    if not hostnames.HOSTNAME.match(clean):
        raise ValueError(f"{host!r} is not a host name")
    return clean


def _expiry(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_expiry(str(value))
    except ValueError:
        raise ValueError("must be a date such as 2027-12-31") from None


# a blank limit means none; the bounds apply to a number only (on `int | None` they would meet None and raise)
Limit = Annotated[
    Annotated[int, Field(ge=0, le=10_000_000)] | None,
    BeforeValidator(lambda v: None if v in (None, "") else v),
]


def _basis_points(percent: Any) -> Any:
    """'12.5' (a percentage, at most two decimals) as 1250; anything else is left for the field to refuse."""
    try:
        value = Decimal(str(percent).strip().rstrip("%"))
    except InvalidOperation:
        return percent
    scaled = value * 100
    return int(scaled) if scaled == scaled.to_integral_value() and value.is_finite() else percent


class LicenceForm(BaseModel):
    """A reseller's licence as platform staff set it (empty limits mean no limit)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    tier: str = Field(min_length=1, max_length=40, json_schema_extra={"message": "is required (at most 40 characters)"})
    features: Annotated[list[str], BeforeValidator(_listed)] = Field(default_factory=list)
    max_customers: Limit = None
    max_instances: Limit = None
    max_domains: Limit = None
    authorized_domains: Annotated[list[str], BeforeValidator(_listed)] = Field(default_factory=list)
    expires_at: Annotated[datetime | None, BeforeValidator(_expiry)] = None
    grace_days: Annotated[int, BeforeValidator(lambda v: 14 if v in (None, "") else v)] = Field(
        14, ge=0, le=MAX_GRACE_DAYS
    )
    status: Literal["active", "suspended"] = Field(
        "active", json_schema_extra={"message": "must be active or suspended"}
    )
    # the platform's share of the seller's customers' payments once they go to the seller's own Stripe account
    application_fee_bps: int = Field(0, ge=0, le=10_000, json_schema_extra={"message": "must be 0 to 100 %"})

    @model_validator(mode="before")
    @classmethod
    def _console_fields(cls, values: Any) -> Any:
        """The console's form says `domains` and `expires` (a day, typed): the same fields by other names."""
        if not isinstance(values, dict):
            return values
        values = dict(values)
        if "domains" in values and "authorized_domains" not in values:
            values["authorized_domains"] = values.pop("domains")
        if "expires" in values and not values.get("expires_at"):
            values["expires_at"] = values.pop("expires")
        if values.get("application_fee_percent") not in (None, "") and "application_fee_bps" not in values:
            values["application_fee_bps"] = _basis_points(values.pop("application_fee_percent"))
        return values

    @field_validator("features")
    @classmethod
    def _known_features(cls, features: list[str]) -> list[str]:
        if unknown := sorted(set(features) - set(FEATURES)):
            raise ValueError(f"unknown: {', '.join(unknown)} (known: {', '.join(FEATURES)})")
        return features

    @field_validator("authorized_domains")
    @classmethod
    def _host_names(cls, domains: list[str]) -> list[str]:
        return [_host(domain) for domain in domains]


def save_licence(
    session: Session, actor: Actor | None, organization_id: int, values: dict[str, Any], *, ip: str = ""
) -> Licence:
    """Platform staff set a reseller's licence: tier, features, limits, expiry and grace, authorised domains."""
    checked = authorise(
        session,
        actor,
        "manage",
        action="licences.save",
        target=("organization", organization_id),
        organization_id=organization_id,
        platform=True,
    )
    seller = session.get(Organization, organization_id)
    if seller is None or seller.kind not in SELLER_KINDS:
        raise ValidationFailed.single("", N_("Licences are for resellers."))
    form = parse(LicenceForm, values)
    licence = active_licence(session, organization_id) or Licence(organization_id=organization_id, tier=form.tier)
    for name, value in form.model_dump().items():
        setattr(licence, name, value)
    session.add(licence)
    audit.record(
        session,
        "licences.save",
        **checked.audit_fields(),
        target=("organization", organization_id),
        organization_id=organization_id,
        ip=ip,
        details=form.model_dump(mode="json", exclude={"expires_at"}),
    )
    return licence


def list_licences(session: Session, actor: Actor | None) -> list[dict[str, str]]:
    """Every reseller with its licence and how much of it is used (its whole subtree), for platform staff."""
    authorise(session, actor, "view", action="licences.list", target=("licence", "*"), platform=True)
    rows = []
    for seller in session.exec(
        select(Organization).where(col(Organization.kind).in_(SELLER_KINDS)).order_by(col(Organization.name))
    ).all():
        licence = active_licence(session, key(seller))
        customers = session.exec(
            select(func.count())
            .select_from(Organization)
            .where(
                col(Organization.kind) == OrgKind.CUSTOMER, col(Organization.id).in_(subtree_ids(session, key(seller)))
            )
        ).one()
        limit = licence.max_customers if licence and licence.max_customers is not None else "∞"
        rows.append(
            {
                "id": str(seller.id),
                "name": seller.name,
                "tier": licence.tier if licence else "",
                "customers": f"{customers} / {limit}",
                "features": ", ".join(licence.features or []) if licence else "",
                "domains": ", ".join(licence.authorized_domains) if licence else "",
                "expires": licence.expires_at.strftime("%Y-%m-%d") if licence and licence.expires_at else "",
                "state": state(licence) if licence else "no licence",
            }
        )
    return rows


def parse_expiry(text: str) -> datetime | None:
    """A licence's last day as typed in the console ("" for none): it ends at the end of that day, UTC."""
    text = text.strip()
    if not text:
        return None
    day = date.fromisoformat(text)
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
