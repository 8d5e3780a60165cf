from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.accounts import login as login_flow
from services.accounts import service
from services.accounts.passwords import verify_password
from services.accounts.sessions import resolve_session
from services.errors import RateLimited, ValidationFailed
from services.models import AuditEvent, AuthSession, User, UserToken
from services.models.base import utcnow
from tests.support.accounts import GOOD_PASSWORD, last_link, sign_up, token_of
from tests.support.env import SettingsEnv
from tests.support.mailbox import outbox_messages


def _verified_user(db: Session, outbox: Path, username: str = "alice") -> User:
    result = sign_up(db, username=username, email=f"{username}@example.com")
    service.verify_email(db, token_of(last_link(outbox, "confirm")))
    db.commit()
    user = db.get(User, result.user_id)
    assert user is not None
    return user


def test_verification_link_works_once(db: Session, outbox: Path) -> None:
    sign_up(db)
    token = token_of(last_link(outbox, "confirm"))
    user = service.verify_email(db, token)
    db.commit()
    assert user.email_verified_at is not None
    with pytest.raises(ValidationFailed) as caught:
        service.verify_email(db, token)
    assert "already been used" in caught.value.errors["token"]


def test_expired_verification_link_is_refused(db: Session, outbox: Path) -> None:
    sign_up(db)
    token = token_of(last_link(outbox, "confirm"))
    row = db.exec(select(UserToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    with pytest.raises(ValidationFailed) as caught:
        service.verify_email(db, token)
    assert "expired" in caught.value.errors["token"]
    assert db.exec(select(User)).one().email_verified_at is None


def test_login_requires_verified_email_and_resends_the_link(db: Session, outbox: Path) -> None:
    sign_up(db)
    db.exec(select(UserToken)).one()  # the first link
    row = db.exec(select(UserToken)).one()
    row.created_at = utcnow() - timedelta(hours=1)
    db.add(row)
    db.commit()
    with pytest.raises(ValidationFailed) as caught:
        login_flow.login(db, identifier="alice", password=GOOD_PASSWORD)
    db.rollback()
    assert "confirm your e-mail" in caught.value.errors["identifier"]
    assert len([m for m in outbox_messages(outbox) if "Confirm" in m["Subject"]]) == 2
    assert db.exec(select(AuthSession)).all() == []


def test_login_logout_and_session_lookup(db: Session, outbox: Path) -> None:
    user = _verified_user(db, outbox)
    token = login_flow.login(db, identifier="ALICE@example.com", password=GOOD_PASSWORD, ip="1.2.3.4")
    db.commit()
    current = resolve_session(db, token)
    assert current is not None and current.id == user.id and current.username == "alice"
    stored = db.exec(select(AuthSession)).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64

    login_flow.logout(db, token)
    db.commit()
    assert resolve_session(db, token) is None


def test_expired_session_is_not_accepted(db: Session, outbox: Path) -> None:
    _verified_user(db, outbox)
    token = login_flow.login(db, identifier="alice", password=GOOD_PASSWORD)
    db.commit()
    stored = db.exec(select(AuthSession)).one()
    stored.expires_at = utcnow() + timedelta(seconds=30)
    db.add(stored)
    db.commit()
    assert resolve_session(db, token) is not None  # valid until its moment comes ...
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.add(stored)
    db.commit()
    assert resolve_session(db, token) is None


def test_wrong_password_is_refused_with_one_message_and_audited(db: Session, outbox: Path) -> None:
    _verified_user(db, outbox)
    for identifier in ("alice", "nobody@example.com"):
        with pytest.raises(ValidationFailed) as caught:
            login_flow.login(db, identifier=identifier, password="wrong password!", ip="9.9.9.9")
        db.rollback()
        assert caught.value.errors["password"] == login_flow.WRONG_CREDENTIALS
    assert db.exec(select(AuthSession)).all() == []
    failures = db.exec(select(AuditEvent).where(AuditEvent.action == "account.login_failed")).all()
    assert len(failures) == 2
    assert all("wrong password" not in str(f.details) for f in failures)


def test_login_is_rate_limited_per_account_and_per_ip(db: Session, outbox: Path, settings_env: SettingsEnv) -> None:
    settings_env.setenv("LOGIN_RATE_PER_ACCOUNT", "3/minute")
    settings_env.setenv("LOGIN_RATE_PER_IP", "5/minute")
    _verified_user(db, outbox)
    for _ in range(3):
        with pytest.raises(ValidationFailed):
            login_flow.login(db, identifier="alice", password="wrong password!", ip="1.1.1.1")
    with pytest.raises(RateLimited):  # the right password does not help once the account is locked out
        login_flow.login(db, identifier="alice", password=GOOD_PASSWORD, ip="2.2.2.2")
    for n in range(5):  # per IP: other accounts from the same address
        with pytest.raises((ValidationFailed, RateLimited)) as caught:
            login_flow.login(db, identifier=f"other{n}", password="whatever-pass", ip="3.3.3.3")
        assert isinstance(caught.value, ValidationFailed)
    with pytest.raises(RateLimited):
        login_flow.login(db, identifier="other9", password="whatever-pass", ip="3.3.3.3")


def test_password_reset_is_single_use_and_revokes_sessions(db: Session, outbox: Path) -> None:
    user = _verified_user(db, outbox)
    old_session = login_flow.login(db, identifier="alice", password=GOOD_PASSWORD)
    service.request_password_reset(db, "alice@example.com")
    db.commit()
    token = token_of(last_link(outbox, "reset"))

    with pytest.raises(ValidationFailed) as weak:
        service.reset_password(db, token, "short")
    db.rollback()
    assert "at least" in weak.value.errors["password"]

    service.reset_password(db, token, "a brand new passphrase")
    db.commit()
    db.refresh(user)
    assert verify_password("a brand new passphrase", user.password_hash)
    assert resolve_session(db, old_session) is None

    with pytest.raises(ValidationFailed) as reused:
        service.reset_password(db, token, "yet another passphrase")
    db.rollback()
    assert "already been used" in reused.value.errors["token"]
    db.refresh(user)
    assert verify_password("a brand new passphrase", user.password_hash)


def test_expired_reset_link_changes_nothing(db: Session, outbox: Path) -> None:
    user = _verified_user(db, outbox)
    service.request_password_reset(db, "alice@example.com")
    db.commit()
    token = token_of(last_link(outbox, "reset"))
    for row in db.exec(select(UserToken).where(UserToken.purpose == "reset_password")).all():
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
    db.commit()
    with pytest.raises(ValidationFailed) as caught:
        service.reset_password(db, token, "a brand new passphrase")
    db.rollback()
    assert "expired" in caught.value.errors["token"]
    db.refresh(user)
    assert verify_password(GOOD_PASSWORD, user.password_hash)


def test_reset_request_for_unknown_email_sends_nothing(db: Session, outbox: Path) -> None:
    service.request_password_reset(db, "ghost@example.com")
    db.commit()
    assert outbox_messages(outbox) == []


def test_change_password_checks_current_and_signs_out_other_sessions(db: Session, outbox: Path) -> None:
    user = _verified_user(db, outbox)
    here = login_flow.login(db, identifier="alice", password=GOOD_PASSWORD)
    elsewhere = login_flow.login(db, identifier="alice", password=GOOD_PASSWORD)
    db.commit()
    current = resolve_session(db, here)
    assert current is not None

    with pytest.raises(ValidationFailed) as wrong:
        service.change_password(db, user.id, "not my password", "another good passphrase", current.session_hash)
    db.rollback()
    assert "not correct" in wrong.value.errors["current_password"]
    assert resolve_session(db, elsewhere) is not None

    service.change_password(db, user.id, GOOD_PASSWORD, "another good passphrase", current.session_hash)
    db.commit()
    assert resolve_session(db, here) is not None
    assert resolve_session(db, elsewhere) is None
    assert any("changed" in m["Subject"] for m in outbox_messages(outbox))


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/admin", "/admin"),
        ("/dashboard?x=1#y", "/dashboard?x=1#y"),
        ("", "/dashboard"),
        (None, "/dashboard"),
        ("//evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("\\\\evil.example", "/dashboard"),
        ("https://evil.example", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
        ("/\t/evil.example", "/dashboard"),
        (" //evil.example", "/dashboard"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
    ],
)
def test_after_sign_in_only_a_path_on_this_portal_is_followed(target: str | None, expected: str) -> None:
    assert login_flow.next_path(target) == expected


def test_empty_fields_and_a_disabled_account_are_refused_plainly(db: Session, outbox: Path) -> None:
    with pytest.raises(ValidationFailed) as empty:
        login_flow.login(db, identifier="  ", password="")
    assert set(empty.value.errors) == {"identifier", "password"}
    user = _verified_user(db, outbox, "dora")
    user.status = "disabled"
    db.add(user)
    db.commit()
    with pytest.raises(ValidationFailed, match="disabled"):
        login_flow.login(db, identifier="dora", password=GOOD_PASSWORD)
    assert db.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all() == []
