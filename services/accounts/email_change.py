"""Changing a person's e-mail address: confirmed from the new address, undoable from the old one for 7 days.

Sign-in keeps using the old address until the new one is confirmed (nobody can move an account to an address they
do not read). Once it moves, the old address is told and given a link that moves it back and signs out every
session, for the case where the change was not theirs."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from services import audit, ratelimit
from services.accounts import passwords
from services.accounts.service import _consume_token, _email_taken, _invalidate_tokens, issue_token, normalise_email
from services.accounts.sessions import revoke_all_sessions
from services.branding.brand import portal_url
from services.config import get_settings
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.mail.outgoing import send_after_commit
from services.models import User
from services.models.base import key, utcnow
from services.tenancy.orgs import home_organization

CHANGE_EMAIL = "change_email"
UNDO_EMAIL_CHANGE = "undo_email_change"
UNDO_DAYS = 7
TAKEN = N_("This e-mail address belongs to another account.")


def request_change(session: Session, user_id: int, new_email: str, password: str, ip: str = "") -> str:
    """Send a confirmation link to the new address; returns it (normalised). The password proves it is the
    account's owner at the keyboard, not someone at an unattended browser."""
    user = session.get(User, user_id)
    if user is None:
        raise ValidationFailed.single("", N_("Your session has ended. Please sign in again."))
    ratelimit.check_password_guess(user_id, ip)
    if not passwords.verify_password(password, user.password_hash):
        raise ValidationFailed.single("password", N_("The password is not correct."))
    email = normalise_email(new_email)
    if email == user.email:
        raise ValidationFailed.single("email", N_("That is already your e-mail address."))
    if _email_taken(session, email):
        raise ValidationFailed.single("email", TAKEN)
    _invalidate_tokens(session, user_id, CHANGE_EMAIL)  # only the newest request can be confirmed
    hours = get_settings().verification_hours
    token = issue_token(session, user, CHANGE_EMAIL, timedelta(hours=hours), detail=email)
    org_id = home_organization(session, user_id)
    send_after_commit(
        session,
        "confirm_email_change",
        email,
        {"username": user.username, "hours": hours},
        organization_id=org_id,
        links={"link": f"{portal_url(session, org_id)}/account/email?token={token}"},
    )
    audit.record(session, "account.email_change_requested", actor=user, target=("user", user.id), ip=ip)
    return email


def confirm_change(session: Session, raw_token: str) -> User:
    """The new address is confirmed: the account moves to it, and the old address gets a link to move it back."""
    token = _consume_token(session, raw_token, CHANGE_EMAIL)
    user = session.get(User, token.user_id)
    if user is None or user.status != "active" or not token.detail:
        raise ValidationFailed.single("token", N_("This link is invalid or has already been used."))
    if _email_taken(session, token.detail):
        raise ValidationFailed.single("token", TAKEN)
    old = user.email
    user.email, user.email_verified_at = token.detail, utcnow()
    session.add(user)
    undo = issue_token(session, user, UNDO_EMAIL_CHANGE, timedelta(days=UNDO_DAYS), detail=old)
    org_id = home_organization(session, key(user))
    send_after_commit(
        session,
        "email_changed",
        old,
        {"username": user.username, "days": UNDO_DAYS},
        organization_id=org_id,
        links={"link": f"{portal_url(session, org_id)}/account/email/undo?token={undo}"},
    )
    audit.record(session, "account.email_changed", actor=user, target=("user", user.id))
    return user


def undo_change(session: Session, raw_token: str) -> User:
    """Back to the old address, every session signed out and any pending change cancelled."""
    token = _consume_token(session, raw_token, UNDO_EMAIL_CHANGE)
    user = session.get(User, token.user_id)
    if user is None or not token.detail:
        raise ValidationFailed.single("token", N_("This link is invalid or has already been used."))
    if user.email != token.detail and _email_taken(session, token.detail):
        raise ValidationFailed.single("token", N_("That address now belongs to another account; contact support."))
    user.email, user.email_verified_at = token.detail, utcnow()
    session.add(user)
    _invalidate_tokens(session, key(user), CHANGE_EMAIL)
    revoke_all_sessions(session, key(user))
    audit.record(session, "account.email_change_undone", actor=user, target=("user", user.id))
    return user
