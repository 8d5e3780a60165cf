"""A customer's team: colleagues invited with a role, each role doing only what it may, and an organization that
never loses its last owner. Another customer's memberships and invitations are out of reach."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts.invitations import accept_new_account
from services.billing.subscription_changes import billing_overview
from services.customer import team
from services.dashboard import load_dashboard
from services.errors import ValidationFailed
from services.models import AuditEvent, Invitation, Membership
from services.tenancy.scope import Customer, Forbidden
from tests.support import tenants
from tests.support.accounts import GOOD_PASSWORD, last_link, sign_up, token_of


def _owner(db: Session, name: str) -> Customer:
    sign_up(db, username=name, email=f"{name}@example.com")
    return tenants.customer(db, name)


def _join(db: Session, outbox: Path, owner: Customer, email: str, role: str) -> Customer:
    team.invite_colleague(db, owner, email, role)
    db.commit()
    user = accept_new_account(db, token_of(last_link(outbox, "invit")), GOOD_PASSWORD)
    db.commit()
    return tenants.customer(db, user.username)


def _membership_of(db: Session, who: Customer) -> int:
    row = db.exec(
        select(Membership).where(Membership.user_id == who.user_id, Membership.organization_id == who.organization_id)
    ).one()
    assert row.id is not None
    return row.id


def test_an_invited_colleague_joins_with_their_role_and_sees_only_what_it_allows(db: Session, outbox: Path) -> None:
    owner = _owner(db, "teamowner")
    member = _join(db, outbox, owner, "mia@example.com", "member")
    assert (member.organization_id, member.role) == (owner.organization_id, "member")
    view = team.team(db, member)
    assert [m["email"] for m in view.members] == ["teamowner@example.com", "mia@example.com"]
    assert view.can_manage is False and view.invitations == []
    assert load_dashboard(db, member).role == "member"  # status and usage
    with pytest.raises(Forbidden):
        billing_overview(db, member)
    with pytest.raises(Forbidden):
        team.invite_colleague(db, member, "x@example.com", "member")
    db.rollback()
    billing = _join(db, outbox, owner, "bill@example.com", "billing")
    assert billing_overview(db, billing).invoices == []  # billing sees invoices
    dashboard = load_dashboard(db, billing)
    assert dashboard.can_bill and not dashboard.can_operate


def test_roles_that_may_not_make_owners_cannot_and_support_is_not_a_customer_role(db: Session, outbox: Path) -> None:
    owner = _owner(db, "rolesowner")
    admin = _join(db, outbox, owner, "ada@example.com", "admin")
    with pytest.raises(ValidationFailed, match="Only an owner"):
        team.invite_colleague(db, admin, "boss@example.com", "owner")
    with pytest.raises(ValidationFailed, match="Choose one of"):
        team.invite_colleague(db, admin, "staff@example.com", "support")
    with pytest.raises(ValidationFailed, match="Only an owner"):
        team.change_role(db, admin, _membership_of(db, owner), "member")
    with pytest.raises(ValidationFailed, match="That is you"):
        team.change_role(db, admin, _membership_of(db, admin), "owner")
    db.rollback()
    team.invite_colleague(db, admin, "newbie@example.com", "billing")
    db.commit()
    [pending] = team.team(db, admin).invitations
    assert (pending["email"], pending["role"]) == ("newbie@example.com", "billing")
    team.withdraw_invitation(db, admin, int(pending["id"]))
    db.commit()
    assert db.get(Invitation, int(pending["id"])).status == "revoked"  # type: ignore[union-attr]


def test_the_last_owner_cannot_leave_step_down_or_be_removed(db: Session, outbox: Path) -> None:
    owner = _owner(db, "lastowner")
    other = _join(db, outbox, owner, "olga@example.com", "admin")
    with pytest.raises(ValidationFailed, match="at least one owner"):
        team.leave(db, owner)
    db.rollback()
    team.change_role(db, owner, _membership_of(db, other), "owner")
    db.commit()
    other = tenants.customer(db, other_username(db, other))
    team.remove(db, other, _membership_of(db, owner))  # two owners: one may remove the other
    db.commit()
    with pytest.raises(ValidationFailed, match="at least one owner"):
        team.leave(db, other)
    assert db.exec(select(Membership).where(Membership.organization_id == owner.organization_id)).all()


def other_username(db: Session, who: Customer) -> str:
    from services.models import User

    user = db.get(User, who.user_id)
    assert user is not None
    return user.username


def test_another_customers_people_and_invitations_are_out_of_reach(db: Session, outbox: Path) -> None:
    owner_a = _owner(db, "teama")
    owner_b = _owner(db, "teamb")
    colleague_b = _join(db, outbox, owner_b, "bob.b@example.com", "member")
    team.invite_colleague(db, owner_b, "pending.b@example.com", "member")
    db.commit()
    invitation_b = db.exec(select(Invitation).where(Invitation.email == "pending.b@example.com")).one()
    membership_b = _membership_of(db, colleague_b)
    for attempt in (
        lambda: team.change_role(db, owner_a, membership_b, "admin"),
        lambda: team.remove(db, owner_a, membership_b),
        lambda: team.withdraw_invitation(db, owner_a, invitation_b.id),  # type: ignore[arg-type]
    ):
        with pytest.raises(Forbidden):
            attempt()
        db.rollback()
    db.expire_all()
    assert db.get(Membership, membership_b).role == "member"  # type: ignore[union-attr]
    assert db.get(Invitation, invitation_b.id).status == "pending"  # type: ignore[union-attr]
    denied = db.exec(select(AuditEvent).where(AuditEvent.action == "customer.denied")).all()
    assert len(denied) == 3 and {e.actor_user_id for e in denied} == {owner_a.user_id}
