"""People from the console: invitations with a set-password link, role changes, disabling; never outside the
actor's subtree, never locking a tenant out."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts import login as login_flow
from services.accounts import service
from services.admin import users
from services.tenancy.scope import Forbidden
from services.errors import ValidationFailed
from services.models import AuditEvent, Membership, Organization, Role, User
from tests.support.mailbox import link_in, outbox_messages
from tests.support.tenants import actor as _actor


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def test_an_invited_person_sets_a_password_by_the_link_and_can_sign_in(db: Session, tree: dict, outbox: Path) -> None:
    user_id = users.invite(db, _actor(db, tree, "a-admin"), email="New.Support@Example.com", role=Role.SUPPORT,
                           organization_id=_org(db, "reseller-a").id)  # type: ignore[arg-type]
    db.commit()
    mail = [m for m in outbox_messages(outbox) if m["To"].lower() == "new.support@example.com"][-1]
    assert "Reseller-A" in mail["Subject"] and "a-admin@example.com" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    service.reset_password(db, link_in(mail).split("token=")[1], "a brand new passphrase")
    db.commit()
    assert login_flow.login(db, identifier="new.support@example.com", password="a brand new passphrase")
    assert [m.role for m in db.exec(select(Membership).where(Membership.user_id == user_id)).all()] == [Role.SUPPORT]
    with pytest.raises(ValidationFailed, match="already a member"):
        users.invite(db, _actor(db, tree, "a-admin"), email="new.support@example.com", role=Role.ADMIN,
                     organization_id=_org(db, "reseller-a").id)  # type: ignore[arg-type]


def test_no_one_manages_people_outside_their_subtree_or_without_the_role(db: Session, tree: dict) -> None:
    a_customer = db.exec(select(Membership).join(User, User.id == Membership.user_id)  # type: ignore[arg-type]
                         .where(User.username == "cust-a")).one()
    attempts = [
        lambda: users.invite(db, _actor(db, tree, "b-admin"), email="x@example.com", role=Role.ADMIN,
                             organization_id=_org(db, "reseller-a").id),
        lambda: users.change_role(db, _actor(db, tree, "b-admin"), a_customer.id, Role.MEMBER),
        lambda: users.set_disabled(db, _actor(db, tree, "b-admin"), a_customer.user_id, True),
        lambda: users.change_role(db, _actor(db, tree, "a-support"), a_customer.id, Role.MEMBER),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden):
            attempt()
        db.rollback()
    assert db.get(Membership, a_customer.id).role == Role.OWNER  # type: ignore[union-attr]
    assert db.get(User, a_customer.user_id).status == "active"  # type: ignore[union-attr]
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "admin.denied")).all()) == 4
    assert {r["email"] for r in users.list_users(db, _actor(db, tree, "b-admin"))[0]} == \
        {"b-admin@example.com", "cust-b@example.com"}


def test_disabling_signs_out_at_once_and_nobody_removes_the_last_owner_or_themselves(db: Session, tree: dict) -> None:
    admin = _actor(db, tree, "a-admin")
    customer = db.exec(select(User).where(User.username == "cust-a")).one()
    owner = db.exec(select(Membership).where(Membership.user_id == customer.id)).one()
    with pytest.raises(ValidationFailed, match="at least one owner"):
        users.change_role(db, admin, owner.id, Role.MEMBER)
    own = db.exec(select(Membership).where(Membership.user_id == admin.user_id)).one()
    with pytest.raises(ValidationFailed, match="own role"):
        users.change_role(db, admin, own.id, Role.OWNER)
    with pytest.raises(Forbidden, match="own account"):
        users.set_disabled(db, admin, admin.user_id, True)
    db.rollback()

    from services.accounts.sessions import create_session, resolve_session

    token = create_session(db, customer.id)  # type: ignore[arg-type]
    db.commit()
    users.set_disabled(db, admin, customer.id, True)  # type: ignore[arg-type]
    db.commit()
    assert resolve_session(db, token) is None
    users.set_disabled(db, admin, customer.id, False)  # type: ignore[arg-type]
    db.commit()
    assert db.get(User, customer.id).status == "active"  # type: ignore[union-attr]
