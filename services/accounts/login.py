"""Sign-in and sign-out.

Coverage: `next_path` rejects a scheme or host after the leading-slash checks as a last guard; no path that
starts with one "/" and passes those checks parses with either, so that line is not reached by tests.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import or_
from sqlmodel import Session, col, select

from services import audit, ratelimit
from services.accounts import passwords, two_factor
from services.accounts.service import VERIFY_EMAIL, _send_verification
from services.accounts.sessions import create_session, revoke_session
from services.crypto import fingerprint
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import User, UserToken
from services.models.base import utcnow

WRONG_CREDENTIALS = N_("The e-mail/username or password is not correct.")
RESEND_INTERVAL = timedelta(minutes=5)


CODE_NEEDED = N_("Enter the 6-digit code from your authenticator app, or one of your recovery codes.")


def login(
    session: Session, *, identifier: str, password: str, code: str = "", ip: str = "", user_agent: str = ""
) -> str:
    """Return a new session token. The same message for unknown account and wrong password.

    With two-factor sign-in on, a right password without a code asks for the code (field "code"), so the form
    can show that field; the password is checked again with the code, nothing is remembered in between.
    """
    identifier = identifier.strip().lower()
    if not identifier or not password:
        raise ValidationFailed(
            {k: "This field is required." for k, v in (("identifier", identifier), ("password", password)) if not v}
        )
    user = session.exec(
        select(User).where(or_(col(User.email) == identifier, col(User.username) == identifier))
    ).first()
    # one bucket per account, whichever name it was typed as ("bob" and "bob@example.com" count together)
    account_key = ratelimit.account_key(user.id if user else None, identifier)
    ratelimit.check_login(ip or "unknown", account_key)
    if user is None:
        passwords.burn_time()
        # what was typed may be a password in the wrong field: only a fingerprint of it is kept
        audit.record_detached(
            session,
            "account.login_failed",
            actor_label=f"unknown:{fingerprint(identifier)}",
            ip=ip,
            details={"reason": "unknown"},
        )
        raise ValidationFailed.single("password", WRONG_CREDENTIALS)
    if not passwords.verify_password(password, user.password_hash):
        audit.record_detached(session, "account.login_failed", actor=user, ip=ip, details={"reason": "password"})
        raise ValidationFailed.single("password", WRONG_CREDENTIALS)
    if user.status != "active":
        raise ValidationFailed.single("", N_("This account is disabled. Please contact support."))
    if user.email_verified_at is None:
        with Session(session.get_bind(), expire_on_commit=False) as own:  # the refusal rolls back the caller
            _resend_if_due(own, user)
            own.commit()
        raise ValidationFailed.single(
            "identifier", say("Please confirm your e-mail first: we sent a link to {email}.", email=user.email)
        )
    if two_factor.is_enabled(user):
        if not (code or "").strip():
            raise ValidationFailed.single("code", CODE_NEEDED)
        if not two_factor.verify_second_factor(session, user, code):
            audit.record_detached(
                session, "account.login_failed", actor=user, ip=ip, details={"reason": "second factor"}
            )
            raise ValidationFailed.single("code", two_factor.WRONG_CODE)
    assert user.id is not None
    token = create_session(session, user.id, ip=ip, user_agent=user_agent)
    user.last_login_at = utcnow()
    session.add(user)
    ratelimit.forget_login_failures(account_key)
    audit.record(session, "account.login", actor=user, target=("user", user.id), ip=ip)
    return token


def next_path(target: str | None, default: str = "/dashboard") -> str:
    """Where to go after signing in: only a path on this portal. `//evil`, `/\\evil` (a browser reads the
    backslash as a slash), schemes, control characters and anything unparsable fall back to `default`."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith("//") or len(target) > 512:
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _resend_if_due(session: Session, user: User) -> None:
    latest = session.exec(
        select(col(UserToken.created_at))
        .where(col(UserToken.user_id) == user.id, col(UserToken.purpose) == VERIFY_EMAIL)
        .order_by(col(UserToken.created_at).desc())
    ).first()
    if latest is None or latest < utcnow() - RESEND_INTERVAL:
        _send_verification(session, user)


def logout(session: Session, token: str) -> None:
    if token:
        revoke_session(session, token)
