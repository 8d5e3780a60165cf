"""Optional TOTP two-factor sign-in (RFC 6238, via pyotp) with single-use recovery codes.

The secret is stored encrypted and only becomes active once the user has typed a first code from their app, so
a half-finished set-up never locks anybody out. Each accepted code's 30-second step is remembered and a code is
never accepted twice. Recovery codes are stored like e-mail tokens: only their hash, each usable once.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from sqlalchemy import update
from sqlmodel import Session, col, select

from services import audit, ratelimit
from services.accounts import passwords
from services.crypto import decrypt, encrypt, hash_token
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.models import User, UserToken
from services.models.base import key, utcnow

ISSUER = "Portal"
RECOVERY = "recovery_code"
RECOVERY_CODES = 10
RECOVERY_LIFETIME = timedelta(days=3650)
STEP_SECONDS = 30
WRONG_CODE = "That code is not right. Use the current code from your app, or one of your recovery codes."


@dataclass(frozen=True)
class Enrolment:
    secret: str  # shown as text for apps that cannot scan
    uri: str
    qr_svg_data_uri: str


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ValidationFailed.single("", N_("Please sign in again."))
    return user


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def begin(session: Session, user_id: int, issuer: str = ISSUER) -> Enrolment:
    """A new secret for the user to add to their app; not active until confirm() sees a first code."""
    user = _user(session, user_id)
    if is_enabled(user):
        raise ValidationFailed.single(
            "", N_("Two-factor sign-in is already on. Turn it off first to set up a new app.")
        )
    secret = pyotp.random_base32()
    user.totp_secret = encrypt(secret)
    session.add(user)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    return Enrolment(secret=secret, uri=uri, qr_svg_data_uri=segno.make(uri, error="m").svg_data_uri(scale=4))


def confirm(session: Session, user_id: int, code: str, ip: str = "") -> list[str]:
    """Turn two-factor sign-in on with a first code; returns the recovery codes (shown once)."""
    user = _user(session, user_id)
    if not user.totp_secret or is_enabled(user):
        raise ValidationFailed.single("code", N_("Start the set-up first."))
    if not _accept_totp(user, code):
        raise ValidationFailed.single("code", N_("That code is not right. Check the time on your phone and try again."))
    user.totp_enabled_at = utcnow()
    session.add(user)
    codes = _new_recovery_codes(session, user)
    audit.record(session, "account.2fa_enabled", actor=user, target=("user", user.id), ip=ip)
    return codes


def disable(session: Session, user_id: int, password: str, ip: str = "") -> None:
    """Needs the password, so a browser left signed in cannot quietly remove the second factor."""
    user = _user(session, user_id)
    ratelimit.check_password_guess(user_id, ip)
    if not passwords.verify_password(password, user.password_hash):
        raise ValidationFailed.single("password", N_("The password is not correct."))
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    session.add(user)
    _revoke_recovery_codes(session, user)
    audit.record(session, "account.2fa_disabled", actor=user, target=("user", user.id), ip=ip)


def verify_second_factor(session: Session, user: User, code: str) -> bool:
    """A current TOTP code (not used before) or an unused recovery code; marks what it used."""
    code = (code or "").strip().replace(" ", "").replace("-", "")
    if not code:
        return False
    if code.isdigit() and len(code) == 6:
        if _accept_totp(user, code):
            session.add(user)
            return True
        return False
    token = session.exec(
        select(UserToken).where(
            col(UserToken.user_id) == user.id,
            col(UserToken.purpose) == RECOVERY,
            col(UserToken.token_hash) == hash_token(code.lower()),
            col(UserToken.used_at).is_(None),
        )
    ).first()
    if token is None:
        return False
    token.used_at = utcnow()
    session.add(token)
    return True


def recovery_codes_left(session: Session, user_id: int) -> int:
    return len(
        session.exec(
            select(col(UserToken.id)).where(
                col(UserToken.user_id) == user_id, col(UserToken.purpose) == RECOVERY, col(UserToken.used_at).is_(None)
            )
        ).all()
    )


def _accept_totp(user: User, code: str) -> bool:
    """Accept the current step or one either side (clock drift), never a step at or before the last one used."""
    secret = decrypt(user.totp_secret or "")
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // STEP_SECONDS
    for step in (now_step - 1, now_step, now_step + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code.strip()):
            user.totp_last_step = step
            return True
    return False


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    _revoke_recovery_codes(session, user)
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    expires = utcnow() + RECOVERY_LIFETIME
    for code in codes:
        session.add(
            UserToken(
                user_id=key(user),
                purpose=RECOVERY,
                token_hash=hash_token(code.replace("-", "")),
                expires_at=expires,
            )
        )
    return codes


def _revoke_recovery_codes(session: Session, user: User) -> None:
    session.exec(
        update(UserToken)
        .where(
            col(UserToken.user_id) == user.id,
            col(UserToken.purpose) == RECOVERY,
            col(UserToken.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
