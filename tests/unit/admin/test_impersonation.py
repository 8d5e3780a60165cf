"""Impersonation: only customers' users inside the admin's subtree, a separate short session, both ends audited."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.accounts.sessions import resolve_session
from services.admin import impersonation
from services.admin.scope import Forbidden
from services.models import AuditEvent, AuthSession, User
from tests.unit.admin.test_admin_scope import _actor, tree  # noqa: F401


def _user(db: Session, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def test_support_impersonates_its_customer_and_the_session_names_who_is_looking(db: Session, tree: dict) -> None:  # noqa: F811
    customer = _user(db, "cust-a")
    token = impersonation.start(db, _actor(db, tree, "a-support"), customer.id, ip="10.1.1.1")  # type: ignore[arg-type]
    db.commit()
    current = resolve_session(db, token)
    assert current is not None and current.id == customer.id
    assert current.impersonator_email == "a-support@example.com"
    assert impersonation.end(db, token)
    db.commit()
    assert resolve_session(db, token) is None
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]  # type: ignore[arg-type]
    assert actions[-2:] == ["admin.impersonation_started", "admin.impersonation_ended"]


@pytest.mark.parametrize("who,whom", [("a-admin", "cust-b"), ("b-admin", "cust-a"), ("a-billing", "cust-a"),
                                      ("a-admin", "a-support"), ("a-support", "operator")])
def test_outside_the_subtree_staff_and_billing_roles_are_refused_and_no_session_is_made(
        db: Session, tree: dict, who: str, whom: str) -> None:  # noqa: F811
    sessions_before = len(db.exec(select(AuthSession)).all())
    with pytest.raises(Forbidden):
        impersonation.start(db, _actor(db, tree, who), _user(db, whom).id)  # type: ignore[arg-type]
    db.rollback()
    assert len(db.exec(select(AuthSession)).all()) == sessions_before
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "admin.denied")).all()


def test_ending_a_normal_session_as_if_it_were_an_impersonation_does_nothing(db: Session, tree: dict) -> None:  # noqa: F811
    from services.accounts.sessions import create_session

    token = create_session(db, _user(db, "cust-a").id)  # type: ignore[arg-type]
    db.commit()
    assert impersonation.end(db, token) is False
    assert resolve_session(db, token) is not None
