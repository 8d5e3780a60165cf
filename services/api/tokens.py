"""Tokens of the platform API: created by a person for their own organization, never with more than their role
allows, shown once, kept as a hash, optionally expiring, revocable; each call resolves the token to who acts.

A token acts as its creator does in the console (an `Actor` over their subtree) or on the dashboard (a
`Customer` on their own organization), limited further to its scopes. A call is refused when the token is
unknown, revoked, expired, when its creator has lost the membership or the role that would grant a scope, or
(for resellers) when the licence has no `api_access`; everything after that goes through the one scoping function.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from services import audit
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import ApiToken, Organization, OrgKind, User
from services.models.base import key, utcnow
from services.tenancy.licences import has_feature
from services.tenancy.scope import Actor, Customer, resolve_actor, resolve_customer

PREFIX = "pat_"
SCOPES = (
    "instances:read",
    "instances:write",
    "customers:read",
    "customers:write",
    "usage:read",
    "billing:read",
    "webhooks:write",
    "audit:read",
    "account:export",  # the token's own person's data (GDPR export); never anyone else's
)
# which staff role may hand out which scope (on a token of its own organization); members hold no tokens
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "owner": frozenset(SCOPES),
    "admin": frozenset(SCOPES),
    "support": frozenset(
        {"instances:read", "instances:write", "customers:read", "usage:read", "audit:read", "account:export"}
    ),
    "billing": frozenset({"customers:read", "usage:read", "billing:read", "account:export"}),
}
CUSTOMER_SCOPES = frozenset(
    {"instances:read", "instances:write", "usage:read", "billing:read", "webhooks:write", "account:export"}
)
MAX_TOKENS = 50
MAX_EXPIRY_DAYS = 3650


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class ApiCaller:
    """Who a call acts as: staff (`actor`) or a customer (`customer`), and what the token may do."""

    token_id: int
    organization_id: int
    scopes: frozenset[str]
    actor: Actor | None = None
    customer: Customer | None = None

    @property
    def user_id(self) -> int:
        if self.actor is not None:
            return self.actor.user_id
        assert self.customer is not None
        return self.customer.user_id

    def audit_fields(self) -> dict[str, object]:
        base = self.actor.audit_fields() if self.actor else self.customer.audit_fields()  # type: ignore[union-attr]
        if not self.token_id:  # the pages, acting for the signed-in person
            return base
        return {**base, "actor_label": f"{base.get('actor_label', '')} (API token {self.token_id})"[:254]}


@dataclass(frozen=True)
class Issued:
    token: str  # shown once
    id: int
    prefix: str


def grantable(session: Session, user_id: int, organization_id: int) -> frozenset[str]:
    """The scopes `user_id` may put on a token of `organization_id` (empty when they may not make one there)."""
    return _grantable(session, user_id, organization_id)[0]


def _grantable(
    session: Session, user_id: int, organization_id: int, email: str = ""
) -> tuple[frozenset[str], Actor | None, Customer | None]:
    """The scopes, and who the person is there (resolved once: it is asked on every API call)."""
    org = session.get(Organization, organization_id)
    if org is None:
        return frozenset(), None, None
    if org.kind == OrgKind.CUSTOMER:
        who = resolve_customer(session, user_id)
        if who is None or who.organization_id != organization_id or who.role not in ("owner", "admin"):
            return frozenset(), None, None
        return CUSTOMER_SCOPES, None, who
    actor = resolve_actor(session, user_id, email)
    if actor is None or actor.organization_id != organization_id:
        return frozenset(), None, None
    return ROLE_SCOPES.get(actor.role, frozenset()), actor, None


def parse_scopes(raw: list[str] | str) -> frozenset[str]:
    items = raw.split() if isinstance(raw, str) else raw
    wanted = frozenset(s.strip() for s in items if s and s.strip())
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValidationFailed.single("scopes", say("unknown scope(s): {choices}", choices=", ".join(unknown)))
    if not wanted:
        raise ValidationFailed.single("scopes", N_("choose at least one scope"))
    return wanted


def issue_api_token(
    session: Session,
    user_id: int,
    organization_id: int,
    name: str,
    scopes: list[str] | str,
    expires_days: int | None = None,
    *,
    ip: str = "",
    actor_label: str = "",
) -> Issued:
    """A new token for `organization_id`, acting for `user_id`; refused beyond what their role allows."""
    wanted = parse_scopes(scopes)
    allowed = grantable(session, user_id, organization_id)
    if not allowed:
        raise PermissionError(N_("You may not create API tokens for this organization."))
    too_much = sorted(wanted - allowed)
    if too_much:
        raise ValidationFailed.single("scopes", say("your role does not allow: {choices}", choices=", ".join(too_much)))
    org = session.get(Organization, organization_id)
    if org is not None and org.kind != OrgKind.PLATFORM and not has_feature(session, organization_id, "api_access"):
        raise ValidationFailed.single("scopes", N_("Your licence does not include API access."))
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed.single("name", N_("give the token a name of 1 to 100 characters"))
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise ValidationFailed.single(
            "expires_days", say("between 1 and {expiry_days} days, or none", expiry_days=MAX_EXPIRY_DAYS)
        )
    live = session.exec(
        select(col(ApiToken.id)).where(
            col(ApiToken.organization_id) == organization_id,
            col(ApiToken.instance_id).is_(None),
            col(ApiToken.revoked_at).is_(None),
        )
    ).all()
    if len(live) >= MAX_TOKENS:
        raise ValidationFailed.single(
            "name", say("at most {tokens} live tokens per organization; revoke one first", tokens=MAX_TOKENS)
        )
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organization_id=organization_id,
        created_by_user_id=user_id,
        name=name,
        prefix=raw[:12],
        token_hash=_hash(raw),
        scopes=" ".join(sorted(wanted)),
        expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(token)
    session.flush()
    user = session.get(User, user_id)
    audit.record(
        session,
        "api_token.create",
        actor_user_id=user_id,
        actor_label=actor_label or (user.email if user else ""),
        target=("api_token", token.id),
        organization_id=organization_id,
        ip=ip,
        details={"name": name, "scopes": sorted(wanted), "expires_days": expires_days},
    )
    return Issued(token=raw, id=key(token), prefix=token.prefix)


def list_api_tokens(session: Session, user_id: int, organization_id: int) -> list[dict[str, str]]:
    if not grantable(session, user_id, organization_id):
        raise PermissionError(N_("You may not see the API tokens of this organization."))
    rows = session.exec(
        select(ApiToken)
        .where(col(ApiToken.organization_id) == organization_id, col(ApiToken.instance_id).is_(None))
        .order_by(col(ApiToken.id).desc())
    ).all()
    return [
        {
            "id": str(t.id),
            "name": t.name,
            "prefix": t.prefix,
            "scopes": t.scopes,
            "created": f"{t.created_at:%Y-%m-%d}",
            "expires": f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
            "last_used": f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
            "state": "revoked" if t.revoked_at else ("expired" if t.expires_at and t.expires_at < utcnow() else "live"),
        }
        for t in rows
    ]


def revoke_api_token(session: Session, user_id: int, token_id: int, *, ip: str = "") -> None:
    token = session.get(ApiToken, token_id)
    organization_id = token.organization_id if token is not None and token.instance_id is None else -1
    if not grantable(session, user_id, organization_id):
        audit.record_detached(
            session,
            "admin.denied",
            actor_user_id=user_id,
            target=("api_token", token_id),
            details={"attempted": "api_token.revoke", "reason": "not yours"},
        )
        raise PermissionError(N_("That token is not in your organization."))
    assert token is not None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(
            session,
            "api_token.revoke",
            actor_user_id=user_id,
            target=("api_token", token_id),
            organization_id=token.organization_id,
            ip=ip,
        )


def resolve_api_token(session: Session, authorization: str | None) -> ApiCaller | None:
    """Who a `Bearer pat_...` call acts as, or None (missing, unknown, revoked, expired, creator gone)."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    raw = authorization[len("Bearer ") :].strip()
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    token = session.exec(select(ApiToken).where(col(ApiToken.token_hash) == _hash(raw))).first()
    if (
        token is None
        or token.instance_id is not None
        or token.revoked_at is not None
        or token.created_by_user_id is None
        or (token.expires_at is not None and token.expires_at <= utcnow())
    ):
        return None
    user = session.get(User, token.created_by_user_id)
    allowed, actor, customer = _grantable(
        session, token.created_by_user_id, token.organization_id, user.email if user else ""
    )
    scopes = frozenset(token.scopes.split()) & allowed  # a creator who lost a role loses what it granted
    org = session.get(Organization, token.organization_id)
    if not scopes or org is None or org.status != "active":
        return None
    if org.kind != OrgKind.PLATFORM and not has_feature(session, token.organization_id, "api_access"):
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):  # not a write per call
        token.last_used_at = now
        session.add(token)
    if customer is not None:
        return ApiCaller(key(token), token.organization_id, scopes, customer=customer)
    return ApiCaller(key(token), token.organization_id, scopes, actor=actor)
