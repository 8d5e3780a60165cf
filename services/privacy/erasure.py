"""Deleting an account (GDPR art. 17): confirmed by the password (and the second factor when it is on), it signs
the person out everywhere, ends what only they used, and pseudonymises them wherever the business must keep the
record (invoices, the audit trail, Stripe's events).

- A customer organization the person was alone in closes: its subscription is cancelled at Stripe at once (no
  further charge), the instance is suspended now and deleted after the plan's retention by the billing timeline,
  as for any cancelled subscription. Its name, address and the instance's name go once the instance is gone
  (`finish_erasures`): until then they name the running resources.
- An organization with other people keeps going: the last owner must first make someone else an owner.
- The person's e-mail address is replaced in every table and JSON document that holds it (it is unique, so this
  touches no one else); their IP addresses and browsers are dropped from their sessions and audit events; their
  username and address leave the audit events about them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from services import audit, ratelimit
from services.accounts import passwords
from services.accounts.sessions import revoke_all_sessions
from services.accounts.two_factor import verify_second_factor
from services.billing import lifecycle
from services.billing.provider import get_gateway, provider_errors
from services.billing.subscriptions import current_subscription
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import (
    AuditEvent,
    AuthSession,
    Domain,
    Instance,
    Membership,
    Organization,
    OrgKind,
    ProvisioningAction,
    ProvisioningStep,
    Role,
    User,
    UserToken,
)
from services.models.base import key, table_of, utcnow
from services.tenancy.orgs import owner_count

ERASING, ERASED = "erasing", "erased"
SECOND_FACTOR = "Enter a current code from your authenticator app or a recovery code."
LAST_OWNER = "make someone else an owner there first."


def _pseudonyms(user_id: int) -> tuple[str, str]:
    return f"deleted-{user_id}@erased.invalid", f"deleted-{user_id}"


def delete_account(session: Session, user_id: int, password: str, code: str = "", ip: str = "") -> str:
    """Returns the pseudonymous address that replaced the person's own (for the confirmation page)."""
    user = session.get(User, user_id)
    if user is None or user.status == "deleted":
        raise ValidationFailed.single("", N_("This account no longer exists."))
    ratelimit.check_password_guess(user_id, ip)
    if not passwords.verify_password(password, user.password_hash):
        raise ValidationFailed.single("password", N_("That is not your password."))
    # nothing is written before Stripe is told (on SQLite a write would hold the lock the test-mode stand-in needs)
    with session.no_autoflush:
        if user.totp_enabled_at is not None and not verify_second_factor(session, user, code):
            raise ValidationFailed.single(
                "code", N_("Enter a current code from your authenticator app or a recovery code.")
            )
        memberships, closing = _decide(session, user_id)
        for org in closing:
            _stop_billing(session, org)
    for membership, _org in memberships:
        session.delete(membership)
    session.flush()  # no member left: the closing organizations' lifecycle e-mails go to no one
    for org in closing:
        _close(session, org)
    email = user.email
    _forget_person(session, user, closing)
    scrub_everywhere(session, email, _pseudonyms(user_id)[0])
    audit.record(
        session,
        "account.deleted",
        actor_user_id=user_id,
        actor_label=_pseudonyms(user_id)[0],
        target=("user", user_id),
        details={"organizations_closed": [o.id for o in closing]},
    )
    finish_erasures(session)
    return _pseudonyms(user_id)[0]


def _decide(session: Session, user_id: int) -> tuple[list[tuple[Membership, Organization]], list[Organization]]:
    """The person's memberships, and the customer organizations that close with them (they are alone in them).
    Refuses while the person is the last owner of an organization that goes on without them."""
    memberships = list(
        session.exec(
            select(Membership, Organization)
            .join(Organization, col(Organization.id) == col(Membership.organization_id))
            .where(col(Membership.user_id) == user_id)
        ).all()
    )
    closing: list[Organization] = []
    for membership, org in memberships:
        others = session.exec(
            select(Membership).where(col(Membership.organization_id) == org.id, col(Membership.user_id) != user_id)
        ).first()
        if org.kind == OrgKind.CUSTOMER and others is None:
            closing.append(org)
        elif membership.role == Role.OWNER and owner_count(session, key(org)) <= 1:
            raise ValidationFailed.single(
                "", say("You are the last owner of {name}: make someone else an owner first.", name=org.name)
            )
    return memberships, closing


def _stop_billing(session: Session, org: Organization) -> None:
    """No further charge: the paid subscription ends at Stripe now (what Stripe says comes back as an event)."""
    subscription = current_subscription(session, key(org))
    if subscription is None or not subscription.stripe_subscription_id or subscription.status == "canceled":
        return
    with provider_errors():
        get_gateway().cancel_now(
            subscription.stripe_subscription_id, f"portal-erase-{subscription.id}-{uuid.uuid4().hex}"
        )


def _close(session: Session, org: Organization) -> None:
    """The person's own customer organization: the instance suspended now and removed after the retention."""
    subscription = current_subscription(session, key(org))
    if subscription is not None and subscription.terminated_at is None and subscription.status != "canceled":
        subscription.status, subscription.canceled_at, subscription.cancel_at_period_end = "canceled", utcnow(), False
        subscription.updated_at = utcnow()
        session.add(subscription)
        lifecycle.apply(session, subscription)
    org.status = ERASING
    org.name = f"Erased customer {org.id}"
    session.add(org)


def _forget_person(session: Session, user: User, closing: list[Organization]) -> None:
    user_id = key(user)
    old_email, old_username = user.email, user.username
    user.email, user.username = _pseudonyms(user_id)
    user.password_hash = "!erased"  # matches no password: nobody signs in as this row again
    user.status = "deleted"
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.add(user)
    revoke_all_sessions(session, user_id)
    session.exec(update(AuthSession).where(col(AuthSession.user_id) == user_id).values(ip=None, user_agent=None))
    for token in session.exec(select(UserToken).where(col(UserToken.user_id) == user_id)).all():
        session.delete(token)
    about_them = or_(
        col(AuditEvent.actor_user_id) == user_id,
        col(AuditEvent.on_behalf_of_user_id) == user_id,
        (col(AuditEvent.target_type) == "user") & (col(AuditEvent.target_id) == str(user_id)),
        col(AuditEvent.organization_id).in_([o.id for o in closing]),
    )
    session.exec(update(AuditEvent).where(about_them).values(ip=None))
    for event in session.exec(select(AuditEvent).where(about_them)).all():
        event.details = _replace(event.details, old_username, _pseudonyms(user_id)[1])
        if event.actor_label == old_email:
            event.actor_label = _pseudonyms(user_id)[0]
        session.add(event)
    session.flush()


def _replace(value: Any, old: str, new: str) -> Any:
    """`old` replaced inside every string of a JSON document (keys included)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {_replace(k, old, new): _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return value


def scrub_everywhere(session: Session, old: str, new: str) -> int:
    """Replace `old` (a unique identifier: an e-mail address) in every text and JSON column of every table.
    Returns how many rows changed. Case is kept as stored: addresses are stored normalised."""
    session.flush()
    changed = 0
    for table in SQLModel.metadata.sorted_tables:
        changed += _scrub_table(session, table, old, new)
    return changed


def _scrub_table(session: Session, table: Table, old: str, new: str, where: Any = None) -> int:
    changed = 0
    primary = list(table.primary_key.columns)
    like = f"%{old}%"
    for column in table.columns:
        if isinstance(column.type, JSON):
            found = sa_select(*primary, column).where(cast(column, Text).like(like))
            for row in session.execute(found if where is None else found.where(where)).all():
                document = json.loads(json.dumps(row[-1]))
                condition = [c == row[i] for i, c in enumerate(primary)]
                session.execute(update(table).where(*condition).values({column.name: _replace(document, old, new)}))
                changed += 1
        elif isinstance(column.type, String | Text) and column not in primary:
            statement = update(table).where(column.like(like)).values({column.name: func.replace(column, old, new)})
            result = session.execute(statement if where is None else statement.where(where))
            changed += int(getattr(result, "rowcount", 0) or 0)
    return changed


def finish_erasures(session: Session) -> int:
    """Closed organizations whose instances are gone lose their last names: the organization's address, the
    instance's name and its domains. Run at deletion and by the billing timeline."""
    done = 0
    for org in session.exec(select(Organization).where(col(Organization.status) == ERASING)).all():
        instances = session.exec(select(Instance).where(col(Instance.organization_id) == org.id)).all()
        if any(i.status != "deprovisioned" for i in instances if i.status not in ("awaiting_payment", "pending")):
            continue
        for instance in instances:
            if instance.subdomain != f"erased-{instance.id}":
                scrub_instance_name(session, instance.subdomain, f"erased-{instance.id}", key(instance))
                instance.subdomain, instance.status = f"erased-{instance.id}", "deprovisioned"
                session.add(instance)
        for domain in session.exec(select(Domain).where(col(Domain.organization_id) == org.id)).all():
            session.delete(domain)
        org.slug, org.status = f"erased-{org.id}", ERASED
        session.add(org)
        done += 1
    return done


def scrub_instance_name(session: Session, old: str, new: str, instance_id: int) -> None:
    """The instance's name where it was written down beside it: its own actions' and steps' errors and results
    (only those rows: a short name may be part of other words elsewhere)."""
    actions = table_of(ProvisioningAction)
    _scrub_table(session, actions, old, new, actions.c.instance_id == instance_id)
    steps = table_of(ProvisioningStep)
    of_instance = sa_select(actions.c.id).where(actions.c.instance_id == instance_id).scalar_subquery()
    _scrub_table(session, steps, old, new, steps.c.action_id.in_(of_instance))
