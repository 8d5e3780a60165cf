from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from services.accounts import service
from services.accounts.usernames import RESERVED_NAMES, username_problem
from services.errors import RateLimited, ValidationFailed
from services.models import AuditEvent, Membership, Organization, OrgKind, User, UserToken
from tests.support.accounts import GOOD_PASSWORD, last_link, sign_up
from tests.support.env import SettingsEnv
from tests.support.mailbox import outbox_messages


def _count(db: Session, model: type) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_signup_creates_user_org_membership_and_sends_verification(db: Session, outbox: Path) -> None:
    result = sign_up(db, username="Alice", email="Alice@Example.com")

    user = db.get(User, result.user_id)
    assert user is not None and user.username == "alice" and user.email == "alice@example.com"
    assert user.password_hash.startswith("$argon2") and GOOD_PASSWORD not in user.password_hash
    assert user.email_verified_at is None
    org = db.get(Organization, result.organization_id)
    assert org is not None and org.kind == OrgKind.CUSTOMER and org.slug == "alice"
    parent = db.get(Organization, org.parent_id)
    assert parent is not None and parent.kind == OrgKind.PLATFORM
    membership = db.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert membership.role == "owner" and membership.organization_id == org.id
    link = last_link(outbox, "confirm")
    assert link.startswith("http://portal.test/verify?token=")
    assert outbox_messages(outbox)[-1]["To"] == "alice@example.com"


@pytest.mark.parametrize(
    ("field", "kwargs", "message_part"),
    [
        ("email", {"email": "alice@example.com"}, "already exists"),
        ("email", {"email": "ALICE@example.com"}, "already exists"),
        ("username", {"username": "alice"}, "already taken"),
        ("username", {"username": "ab"}, "at least 3"),
        ("username", {"username": "a" * 33}, "at most 32"),
        ("username", {"username": "-bob"}, "hyphen"),
        ("username", {"username": "bob-"}, "hyphen"),
        ("username", {"username": "bob_smith"}, "lowercase letters"),
        ("username", {"username": "bob.smith"}, "lowercase letters"),
        ("username", {"username": "admin"}, "reserved"),
        ("password", {"password": "short"}, "at least 10"),
        ("password", {"password": "x" * 100 + "Yz1!" * 10}, "at most 128"),
        ("password", {"password": "password123"}, "too easy"),
        ("password", {"password": "aaaaaaaaaaaa"}, "too easy"),
        ("password", {"password": "bobby-rocks-2026"}, "username"),
        ("email", {"email": "not-an-email"}, "not a valid"),
        ("email", {"email": ""}, "Enter your e-mail"),
    ],
)
def test_bad_signup_input_is_refused_at_the_field_and_changes_nothing(
    db: Session, outbox: Path, field: str, kwargs: dict[str, str], message_part: str
) -> None:
    sign_up(db)
    before = {m: _count(db, m) for m in (User, Organization, Membership, UserToken, AuditEvent)}
    mails_before = len(outbox_messages(outbox))
    params = {"email": "bob@example.com", "username": "bobby", "password": GOOD_PASSWORD, **kwargs}

    with pytest.raises(ValidationFailed) as caught:
        service.signup(db, **params)
    db.rollback()

    assert message_part in caught.value.errors[field]
    assert {m: _count(db, m) for m in before} == before
    assert len(outbox_messages(outbox)) == mails_before


def test_every_problem_is_reported_at_once(db: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.signup(db, email="nope", username="x", password="short")
    assert set(caught.value.errors) == {"email", "username", "password"}


def test_reserved_names_live_in_one_list_and_are_refused(db: Session) -> None:
    for name in ("www", "api", "admin", "app", "mail", "billing", "status"):
        assert name in RESERVED_NAMES
        assert "reserved" in (username_problem(db, name) or "")


def test_availability_check_sees_existing_usernames(db: Session) -> None:
    assert username_problem(db, "carol") is None
    sign_up(db, username="carol", email="carol@example.com")
    assert username_problem(db, "carol") == "This username is already taken."
    assert username_problem(db, "CAROL") == "This username is already taken."


def test_signup_is_rate_limited_per_ip(db: Session, settings_env: SettingsEnv) -> None:
    settings_env.setenv("SIGNUP_RATE_PER_IP", "2/hour")
    for i in range(2):
        service.signup(db, email=f"u{i}@example.com", username=f"user{i}", password=GOOD_PASSWORD, ip="10.0.0.9")
    with pytest.raises(RateLimited) as caught:
        service.signup(db, email="u3@example.com", username="user3", password=GOOD_PASSWORD, ip="10.0.0.9")
    assert "Too many attempts" in str(caught.value)
    # another IP is not affected
    service.signup(db, email="u4@example.com", username="user4", password=GOOD_PASSWORD, ip="10.0.0.10")
