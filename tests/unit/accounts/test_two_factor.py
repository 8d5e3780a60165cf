"""Two-factor sign-in: set-up only counts after a first code, codes are single-use, recovery codes work once."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from sqlmodel import Session, select

from services.accounts import login as login_flow
from services.accounts import service, two_factor
from services.accounts.sessions import create_session, list_sessions, resolve_session, revoke_all_sessions
from services.crypto import hash_token
from services.errors import ValidationFailed
from services.models import AuditEvent, User
from tests.support.accounts import GOOD_PASSWORD, last_link, sign_up, token_of


def _user(db: Session, outbox: Path) -> User:
    result = sign_up(db, username="carol", email="carol@example.com")
    service.verify_email(db, token_of(last_link(outbox, "confirm")))
    db.commit()
    return db.get(User, result.user_id)  # type: ignore[return-value]


def _login(db: Session, code: str = "") -> str:
    token = login_flow.login(db, identifier="carol", password=GOOD_PASSWORD, code=code)
    db.commit()
    return token


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def test_enrolment_is_inactive_until_a_first_code_then_login_needs_a_fresh_code(db: Session, outbox: Path) -> None:
    user = _user(db, outbox)
    enrolment = two_factor.begin(db, user.id)  # type: ignore[arg-type]
    db.commit()
    assert enrolment.uri.startswith("otpauth://totp/") and enrolment.qr_svg_data_uri.startswith("data:image/svg+xml")
    assert enrolment.secret not in (user.totp_secret or "")  # stored encrypted
    assert _login(db)  # not confirmed yet: the password alone still signs in

    with pytest.raises(ValidationFailed) as wrong:
        two_factor.confirm(db, user.id, "000000" if _code(enrolment.secret) != "000000" else "111111")  # type: ignore[arg-type]
    assert "code" in wrong.value.errors
    codes = two_factor.confirm(db, user.id, _code(enrolment.secret))  # type: ignore[arg-type]
    db.commit()
    assert len(codes) == 10 and len(set(codes)) == 10

    with pytest.raises(ValidationFailed) as asked:
        _login(db)
    assert "authenticator" in asked.value.errors["code"]
    with pytest.raises(ValidationFailed) as reused:  # the code that confirmed the set-up cannot sign in again
        _login(db, _code(enrolment.secret))
    assert "not right" in reused.value.errors["code"]
    db.rollback()
    assert _login(db, _code(enrolment.secret, steps_ahead=1))  # the next step, as after 30 s (or clock drift)
    failed = db.exec(select(AuditEvent).where(AuditEvent.action == "account.login_failed")).all()
    assert [e.details["reason"] for e in failed] == ["second factor"]


def test_recovery_codes_work_once_each_and_disabling_needs_the_password(db: Session, outbox: Path) -> None:
    user = _user(db, outbox)
    secret = two_factor.begin(db, user.id).secret  # type: ignore[arg-type]
    codes = two_factor.confirm(db, user.id, _code(secret))  # type: ignore[arg-type]
    db.commit()
    assert _login(db, codes[0].upper())  # typed in capitals: still accepted
    with pytest.raises(ValidationFailed):
        _login(db, codes[0])
    db.rollback()
    assert two_factor.recovery_codes_left(db, user.id) == 9  # type: ignore[arg-type]

    with pytest.raises(ValidationFailed) as wrong:
        two_factor.disable(db, user.id, "not my password")  # type: ignore[arg-type]
    assert "password" in wrong.value.errors
    db.rollback()
    two_factor.disable(db, user.id, GOOD_PASSWORD)  # type: ignore[arg-type]
    db.commit()
    assert _login(db) and two_factor.recovery_codes_left(db, user.id) == 0  # type: ignore[arg-type]


def test_sessions_are_listed_without_secrets_and_signing_out_elsewhere_keeps_this_one(
    db: Session, outbox: Path
) -> None:
    user = _user(db, outbox)
    here = create_session(db, user.id, ip="10.0.0.1", user_agent="Firefox")  # type: ignore[arg-type]
    there = create_session(db, user.id, ip="10.0.0.2", user_agent="Chromium")  # type: ignore[arg-type]
    db.commit()
    listed = list_sessions(db, user.id, current_hash=hash_token(here))  # type: ignore[arg-type]
    assert sorted((s["ip"], s["current"]) for s in listed) == [("10.0.0.1", True), ("10.0.0.2", False)]
    assert all(here not in str(s) and hash_token(here) not in str(s) for s in listed)
    assert revoke_all_sessions(db, user.id, except_hash=hash_token(here)) == 1  # type: ignore[arg-type]
    db.commit()
    assert resolve_session(db, here) is not None and resolve_session(db, there) is None
