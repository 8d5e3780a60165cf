"""Account flows. Each function takes the caller's Session and either completes or raises with nothing changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services import audit, ratelimit
from services.accounts import passwords, usernames
from services.accounts.sessions import revoke_all_sessions
from services.branding.brand import portal_url
from services.config import get_settings
from services.crypto import hash_token, new_token
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.mail.outgoing import send_after_commit
from services.models import Membership, Organization, OrgKind, Role, User, UserToken
from services.models.base import key, utcnow
from services.tenancy.licences import ensure_room_for_customer
from services.tenancy.orgs import home_organization

log = logging.getLogger(__name__)

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
MAX_EMAIL_LENGTH = 254


@dataclass(frozen=True)
class SignupResult:
    user_id: int
    organization_id: int
    username: str
    email: str


def normalise_email(raw: str) -> str:
    """Validate syntax only (no DNS lookups: sign-up must not depend on the network) and lowercase it."""
    raw = raw.strip()
    if not raw:
        raise ValidationFailed.single("email", N_("Enter your e-mail address."))
    if len(raw) > MAX_EMAIL_LENGTH:
        raise ValidationFailed.single("email", N_("This e-mail address is too long."))
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed.single(
            "email", say("This is not a valid e-mail address ({reason}).", reason=str(exc))
        ) from exc


def _email_taken(session: Session, email: str) -> bool:
    return session.exec(select(col(User.id)).where(func.lower(col(User.email)) == email)).first() is not None


def default_parent_org(session: Session) -> Organization:
    parent = session.exec(select(Organization).where(col(Organization.kind) == OrgKind.PLATFORM)).first()
    if parent is None:
        parent = Organization(name="Portal", slug="platform", kind=OrgKind.PLATFORM)
        session.add(parent)
        session.flush()
    return parent


def signup(
    session: Session,
    *,
    email: str,
    username: str,
    password: str,
    ip: str = "",
    parent_org_id: int | None = None,
) -> SignupResult:
    """Create the user, their customer organization and ownership, then e-mail a verification link."""
    if ip:
        ratelimit.check_signup(ip)
    errors: dict[str, str] = {}
    try:
        email = normalise_email(email)
        if _email_taken(session, email):
            errors["email"] = "An account with this e-mail already exists. Try signing in or resetting your password."
    except ValidationFailed as exc:
        errors.update(exc.errors)
    username = usernames.normalise(username)
    if problem := usernames.username_problem(session, username):
        errors["username"] = problem
    if problem := passwords.password_problem(password, username=username, email=email):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)

    parent_id = parent_org_id or key(default_parent_org(session))
    ensure_room_for_customer(session, parent_id)
    user = User(email=email, username=username, password_hash=passwords.hash_password(password))
    org = Organization(name=username, slug=username, kind=OrgKind.CUSTOMER, parent_id=parent_id)
    session.add(user)
    session.add(org)
    try:
        session.flush()  # a concurrent sign-up with the same name loses here, before anything is committed
    except IntegrityError as exc:
        session.rollback()
        raise ValidationFailed.single(
            "username", N_("This username or e-mail was just taken. Please choose another.")
        ) from exc
    assert user.id is not None and org.id is not None
    session.add(Membership(user_id=user.id, organization_id=org.id, role=Role.OWNER))
    _send_verification(session, user)
    audit.record(session, "account.signup", actor=user, target=("user", user.id), organization_id=org.id, ip=ip)
    return SignupResult(user_id=user.id, organization_id=org.id, username=username, email=email)


def issue_token(session: Session, user: User, purpose: str, lifetime: timedelta, detail: str | None = None) -> str:
    """A single-use e-mail token (verification, reset, invitation, address change); only its hash is stored."""
    token = new_token()
    assert user.id is not None
    session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=utcnow() + lifetime,
            detail=detail,
        )
    )
    return token


def _send_verification(session: Session, user: User) -> None:
    settings = get_settings()
    token = issue_token(session, user, VERIFY_EMAIL, timedelta(hours=settings.verification_hours))
    org_id = home_organization(session, key(user))
    send_after_commit(
        session,
        "verify_email",
        user.email,
        {"username": user.username, "hours": settings.verification_hours},
        organization_id=org_id,
        links={"link": f"{portal_url(session, org_id)}/verify?token={token}"},
    )


def resend_verification(session: Session, email: str, ip: str = "") -> None:
    """Same answer whether or not the account exists, so the form cannot be used to probe for e-mails."""
    if ip:
        ratelimit.hit(get_settings().signup_rate_per_ip, f"resend-ip:{ip}")
    email = normalise_email(email)
    user = session.exec(select(User).where(col(User.email) == email)).first()
    if user and user.email_verified_at is None and user.status == "active":
        _send_verification(session, user)


def _consume_token(session: Session, raw_token: str, purpose: str) -> UserToken:
    """Mark the token used in one conditional UPDATE, so two clicks at once cannot both succeed."""
    invalid = ValidationFailed.single("token", N_("This link is invalid or has already been used. Request a new one."))
    if not raw_token:
        raise invalid
    token = session.exec(
        select(UserToken).where(col(UserToken.token_hash) == hash_token(raw_token), col(UserToken.purpose) == purpose)
    ).first()
    if token is None or token.used_at is not None:
        raise invalid
    if token.expires_at <= utcnow():
        raise ValidationFailed.single("token", N_("This link has expired. Request a new one."))
    claimed = session.exec(
        update(UserToken)
        .where(col(UserToken.id) == token.id, col(UserToken.used_at).is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise invalid
    return token


def verify_email(session: Session, raw_token: str) -> User:
    token = _consume_token(session, raw_token, VERIFY_EMAIL)
    user = session.get(User, token.user_id)
    assert user is not None
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        session.add(user)
    audit.record(session, "account.email_verified", actor=user, target=("user", user.id))
    return user


def request_password_reset(session: Session, email: str, ip: str = "") -> None:
    """Always answers the same; sends a link only when the account exists."""
    settings = get_settings()
    if ip:
        ratelimit.hit(settings.login_rate_per_ip, f"reset-ip:{ip}")
    email = normalise_email(email)
    user = session.exec(select(User).where(col(User.email) == email)).first()
    if user is None or user.status != "active":
        return
    ratelimit.hit(settings.login_rate_per_account, f"reset-account:{email}")
    token = issue_token(session, user, RESET_PASSWORD, timedelta(minutes=settings.reset_minutes))
    org_id = home_organization(session, key(user))
    send_after_commit(
        session,
        "reset_password",
        user.email,
        {"username": user.username, "minutes": settings.reset_minutes},
        organization_id=org_id,
        links={"link": f"{portal_url(session, org_id)}/reset/confirm?token={token}"},
    )
    audit.record(session, "account.password_reset_requested", actor=user, target=("user", user.id), ip=ip)


def reset_password(session: Session, raw_token: str, new_password: str) -> User:
    """Check the password first, so a weak choice does not burn the single-use link."""
    token = session.exec(
        select(UserToken).where(
            col(UserToken.token_hash) == hash_token(raw_token or ""), col(UserToken.purpose) == RESET_PASSWORD
        )
    ).first()
    user = session.get(User, token.user_id) if token else None
    if user is not None and (
        problem := passwords.password_problem(new_password, username=user.username, email=user.email)
    ):
        raise ValidationFailed.single("password", problem)
    token = _consume_token(session, raw_token, RESET_PASSWORD)
    user = session.get(User, token.user_id)
    assert user is not None
    _set_password(session, user, new_password)
    # Whoever asked for the reset proved control of the mailbox, which verifies it as well.
    user.email_verified_at = user.email_verified_at or utcnow()
    revoke_all_sessions(session, key(user))
    _invalidate_tokens(session, key(user), RESET_PASSWORD)
    audit.record(session, "account.password_reset", actor=user, target=("user", user.id))
    return user


def change_password(
    session: Session, user_id: int, current: str, new: str, keep_session_hash: str | None, ip: str = ""
) -> None:
    user = session.get(User, user_id)
    if user is None:
        raise ValidationFailed.single("", N_("Your session has ended. Please sign in again."))
    ratelimit.check_password_guess(user_id, ip)
    if not passwords.verify_password(current, user.password_hash):
        raise ValidationFailed.single("current_password", N_("The current password is not correct."))
    if current == new:
        raise ValidationFailed.single("new_password", N_("Choose a password different from the current one."))
    if problem := passwords.password_problem(new, username=user.username, email=user.email):
        raise ValidationFailed.single("new_password", problem)
    _set_password(session, user, new)
    revoke_all_sessions(session, user_id, except_hash=keep_session_hash)
    send_after_commit(
        session,
        "password_changed",
        user.email,
        {"username": user.username},
        organization_id=home_organization(session, user_id),
    )
    audit.record(session, "account.password_changed", actor=user, target=("user", user.id))


def _set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = passwords.hash_password(password)
    session.add(user)


def _invalidate_tokens(session: Session, user_id: int, purpose: str) -> None:
    session.exec(
        update(UserToken)
        .where(col(UserToken.user_id) == user_id, col(UserToken.purpose) == purpose, col(UserToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
