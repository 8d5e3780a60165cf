"""Changing the e-mail address: pending until the new inbox confirms, then the old inbox may undo it for 7 days;
expired, reused, taken and wrong-password cases change nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts import email_change, service
from services.accounts import login as login_flow
from services.accounts.sessions import create_session, resolve_session
from services.errors import ValidationFailed
from services.models import AuditEvent, User, UserToken
from services.models.base import utcnow
from tests.support.accounts import GOOD_PASSWORD, last_link, sign_up, token_of
from tests.support.mailbox import outbox_messages


def _user(db: Session, outbox: Path, name: str = "erin") -> User:
    result = sign_up(db, username=name, email=f"{name}@example.com")
    service.verify_email(db, token_of(last_link(outbox, "confirm")))
    db.commit()
    user = db.get(User, result.user_id)
    assert user is not None
    return user


def _request(db: Session, user: User, new: str = "erin.new@example.org", password: str = GOOD_PASSWORD) -> str:
    email = email_change.request_change(db, user.id, new, password)  # type: ignore[arg-type]
    db.commit()
    return email


def test_the_address_moves_only_once_the_new_inbox_confirms_and_the_old_one_can_undo(db: Session, outbox: Path) -> None:
    user = _user(db, outbox)
    _request(db, user, "Erin.New@Example.org")
    confirm = [m for m in outbox_messages(outbox) if "new" in m["Subject"].lower()][-1]
    assert confirm["To"] == "erin.new@example.org"  # sent to the new address, normalised
    db.refresh(user)
    assert user.email == "erin@example.com"  # pending: sign-in still uses the old one
    with pytest.raises(ValidationFailed):
        login_flow.login(db, identifier="erin.new@example.org", password=GOOD_PASSWORD)

    email_change.confirm_change(db, token_of(last_link(outbox, "confirm your new")))
    db.commit()
    db.refresh(user)
    assert user.email == "erin.new@example.org"
    told = [m for m in outbox_messages(outbox) if "was changed" in m["Subject"]][-1]
    assert told["To"] == "erin@example.com"  # the old address is told, with the undo link
    assert login_flow.login(db, identifier="erin.new@example.org", password=GOOD_PASSWORD)

    session_token = create_session(db, user.id)  # type: ignore[arg-type]
    db.commit()
    email_change.undo_change(db, token_of(last_link(outbox, "was changed")))
    db.commit()
    db.refresh(user)
    assert user.email == "erin@example.com"
    assert resolve_session(db, session_token) is None  # every session signed out
    actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert {"account.email_change_requested", "account.email_changed", "account.email_change_undone"} <= set(actions)
    links = [token_of(last_link(outbox, word)) for word in ("confirm your new", "was changed")]
    assert all(t not in repr(e.model_dump()) for e in db.exec(select(AuditEvent)).all() for t in links)


@pytest.mark.parametrize(
    ("new", "password", "field"),
    [
        ("erin.other@example.org", "wrong password", "password"),
        ("taken@example.com", GOOD_PASSWORD, "email"),
        ("erin@example.com", GOOD_PASSWORD, "email"),
        ("not an address", GOOD_PASSWORD, "email"),
    ],
)
def test_a_request_that_cannot_be_made_says_why_and_sends_nothing(
    db: Session, outbox: Path, new: str, password: str, field: str
) -> None:
    sign_up(db, username="taken", email="taken@example.com")
    user = _user(db, outbox)
    before = len(outbox_messages(outbox))
    with pytest.raises(ValidationFailed) as caught:
        email_change.request_change(db, user.id, new, password)  # type: ignore[arg-type]
    assert field in caught.value.errors
    db.rollback()
    assert len(outbox_messages(outbox)) == before
    assert db.exec(select(UserToken).where(UserToken.purpose == email_change.CHANGE_EMAIL)).all() == []


def test_an_expired_a_superseded_and_a_used_link_change_nothing(db: Session, outbox: Path) -> None:
    user = _user(db, outbox)
    _request(db, user, "first@example.org")
    first = token_of(last_link(outbox, "confirm your new"))
    _request(db, user, "second@example.org")
    second = token_of(last_link(outbox, "confirm your new"))
    with pytest.raises(ValidationFailed):
        email_change.confirm_change(db, first)  # only the newest request can be confirmed
    db.rollback()
    row = db.exec(select(UserToken).where(UserToken.detail == "second@example.org")).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    with pytest.raises(ValidationFailed, match="expired"):
        email_change.confirm_change(db, second)
    db.rollback()
    db.refresh(user)
    assert user.email == "erin@example.com"


def test_an_address_taken_while_the_change_waited_is_not_taken_over(db: Session, outbox: Path) -> None:
    user = _user(db, outbox)
    _request(db, user, "wanted@example.org")
    token = token_of(last_link(outbox, "confirm your new"))
    sign_up(db, username="quicker", email="wanted@example.org")
    with pytest.raises(ValidationFailed, match="another account"):
        email_change.confirm_change(db, token)
    db.rollback()
    db.refresh(user)
    assert user.email == "erin@example.com"
