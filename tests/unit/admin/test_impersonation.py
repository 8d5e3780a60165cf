"""Impersonation: only customers' users inside the admin's subtree, a separate short session tied to the admin's
own, carrying only the admin's rights, every action audited with the admin as the actor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from services.accounts.sessions import create_session, resolve_session, revoke_session
from services.admin import impersonation
from services.billing.self_service import billing_portal_url, change_plan, retry_payment
from services.crypto import hash_token
from services.customer import instance_control as control
from services.customer import usage_view
from services.dashboard import load_dashboard
from services.errors import ValidationFailed
from services.models import AuditEvent, AuthSession, Instance, Membership, Role, User
from services.tenancy.scope import Customer, Forbidden, resolve_customer
from tests.support.tenants import actor as _actor
from tests.support.tenants import staff_session


def _user(db: Session, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def _impersonate(db: Session, tree: dict, who: str, whom: str = "cust-a") -> str:
    admin = tree["users"][who]
    token = impersonation.start(
        db,
        _actor(db, tree, who),
        _user(db, whom).id,  # type: ignore[arg-type]
        admin_session_hash=staff_session(db, admin.id),
        ip="10.1.1.1",
    )
    db.commit()
    return token


def _as_customer(db: Session, token: str) -> Customer:
    current = resolve_session(db, token)
    assert current is not None
    who = resolve_customer(db, current.id, current.impersonator_id)
    assert who is not None
    return who


def test_support_impersonates_its_customer_and_the_session_names_who_is_looking(db: Session, tree: dict) -> None:
    token = _impersonate(db, tree, "a-support")
    current = resolve_session(db, token)
    assert current is not None and current.id == _user(db, "cust-a").id
    assert current.impersonator_email == "a-support@example.com"
    assert impersonation.end(db, token)
    db.commit()
    assert resolve_session(db, token) is None
    events = db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()  # type: ignore[arg-type]
    assert [e.action for e in events][-2:] == ["admin.impersonation_started", "admin.impersonation_ended"]
    assert {(e.actor_user_id, e.on_behalf_of_user_id) for e in events[-2:]} == {
        (tree["users"]["a-support"].id, _user(db, "cust-a").id)
    }


@pytest.mark.parametrize(
    "who,whom",
    [
        ("a-admin", "cust-b"),
        ("b-admin", "cust-a"),
        ("a-billing", "cust-a"),
        ("a-admin", "a-support"),
        ("a-support", "operator"),
    ],
)
def test_outside_the_subtree_staff_and_billing_roles_are_refused_and_no_session_is_made(
    db: Session, tree: dict, who: str, whom: str
) -> None:
    session_hash = staff_session(db, tree["users"][who].id)
    db.commit()
    sessions_before = len(db.exec(select(AuthSession)).all())
    with pytest.raises(Forbidden):
        impersonation.start(db, _actor(db, tree, who), _user(db, whom).id, admin_session_hash=session_hash)  # type: ignore[arg-type]
    db.rollback()
    assert len(db.exec(select(AuthSession)).all()) == sessions_before
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "admin.denied")).all()


def test_impersonation_needs_the_admins_own_live_session(db: Session, tree: dict) -> None:
    other = staff_session(db, tree["users"]["operator"].id)  # someone else's session
    db.commit()
    for session_hash in ("", other, hash_token("made-up")):
        with pytest.raises(Forbidden):
            impersonation.start(
                db,
                _actor(db, tree, "a-support"),
                _user(db, "cust-a").id,  # type: ignore[arg-type]
                admin_session_hash=session_hash,
            )
        db.rollback()


def test_ending_a_normal_session_as_if_it_were_an_impersonation_does_nothing(db: Session, tree: dict) -> None:
    token = create_session(db, _user(db, "cust-a").id)  # type: ignore[arg-type]
    db.commit()
    assert impersonation.end(db, token) is False
    assert resolve_session(db, token) is not None


def _running(db: Session, username: str) -> Instance:
    instance = db.exec(select(Instance).where(Instance.subdomain == username)).one()
    instance.status = "running"
    db.add(instance)
    db.commit()
    return instance


BILLING: dict[str, Callable[[Session, Customer], object]] = {
    "billing portal": lambda s, who: billing_portal_url(s, who),
    "pay now": lambda s, who: retry_payment(s, who),
    "plan change": lambda s, who: change_plan(s, who, "premium"),
}


@pytest.mark.parametrize("action", list(BILLING))
def test_billing_while_impersonating_follows_the_impersonators_role(db: Session, tree: dict, action: str) -> None:
    support = _as_customer(db, _impersonate(db, tree, "a-support"))
    with pytest.raises(Forbidden, match="support"):
        BILLING[action](db, support)
    db.rollback()
    denied = db.exec(select(AuditEvent).where(AuditEvent.action == "customer.denied")).all()[-1]
    assert denied.actor_user_id == tree["users"]["a-support"].id
    assert denied.on_behalf_of_user_id == support.user_id
    admin = _as_customer(db, _impersonate(db, tree, "a-admin"))
    with pytest.raises(ValidationFailed):  # allowed by the admin's role: it goes on to the business rules
        BILLING[action](db, admin)


@pytest.mark.parametrize("secret", ["credentials", "token"])
def test_one_time_secrets_are_never_revealed_to_an_impersonator(
    db: Session, tree: dict, secret: str, scheduled_actions: list
) -> None:
    instance = _running(db, "cust-a")
    for who in ("a-admin", "operator"):
        as_them = _as_customer(db, _impersonate(db, tree, who))
        with pytest.raises(Forbidden, match="secret"):
            if secret == "credentials":
                control.reveal_credentials(db, as_them, instance.id)  # type: ignore[arg-type]
            else:
                control.rotate_usage_token(db, as_them, instance.id)  # type: ignore[arg-type]
        db.rollback()


def test_what_an_impersonator_does_is_recorded_as_theirs_for_the_customer(
    db: Session, tree: dict, scheduled_actions: list
) -> None:
    instance = _running(db, "cust-a")
    who = _as_customer(db, _impersonate(db, tree, "a-support"))
    assert load_dashboard(db, who).instance_id == instance.id
    usage_view.usage_page(db, who, instance.id, 1)  # type: ignore[arg-type]
    control.control_instance(db, who, instance.id, "restart")  # type: ignore[arg-type]
    db.commit()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "instance.restart")).one()
    assert event.actor_user_id == tree["users"]["a-support"].id and event.actor_label == "a-support@example.com"
    assert event.on_behalf_of_user_id == who.user_id


def _demote(db: Session, tree: dict, name: str, role: str) -> None:
    membership = db.exec(select(Membership).where(Membership.user_id == tree["users"][name].id)).one()
    membership.role = role
    db.add(membership)


def _disable(db: Session, tree: dict, name: str) -> None:
    user = db.get(User, tree["users"][name].id)
    user.status = "disabled"  # type: ignore[union-attr]
    db.add(user)


def _leave(db: Session, tree: dict, name: str) -> None:
    db.delete(db.exec(select(Membership).where(Membership.user_id == tree["users"][name].id)).one())


ENDINGS: dict[str, Callable[[Session, dict], None]] = {
    "disabled": lambda db, tree: _disable(db, tree, "a-support"),
    "demoted to billing": lambda db, tree: _demote(db, tree, "a-support", Role.BILLING),
    "lost the membership": lambda db, tree: _leave(db, tree, "a-support"),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_the_impersonation_dies_at_once_when_the_impersonator_loses_the_right(
    db: Session, tree: dict, ending: str
) -> None:
    token = _impersonate(db, tree, "a-support")
    assert resolve_session(db, token) is not None
    ENDINGS[ending](db, tree)
    db.commit()
    assert resolve_session(db, token) is None
    db.commit()
    assert db.exec(select(AuthSession).where(AuthSession.token_hash == hash_token(token))).one().revoked_at


def test_the_impersonation_dies_when_the_impersonator_signs_out(db: Session, tree: dict) -> None:
    admin = tree["users"]["a-support"]
    own_token = create_session(db, admin.id)
    db.commit()
    token = impersonation.start(
        db,
        _actor(db, tree, "a-support"),
        _user(db, "cust-a").id,  # type: ignore[arg-type]
        admin_session_hash=hash_token(own_token),
    )
    db.commit()
    assert resolve_session(db, token) is not None
    revoke_session(db, own_token)
    db.commit()
    assert resolve_session(db, token) is None
