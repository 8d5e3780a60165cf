"""Invitations into an organization: an offer that the invitee accepts as themselves, never a way into an account.

Inviting an address that already has an account only creates a pending invitation; the person sees it after
signing in as themselves and accepts or declines it. No password token is ever sent and no membership exists
until they accept, so a reseller cannot pull the platform's staff (or anyone else) into its tree. A person without
an account gets a link whose token does exactly one thing: create *their* account with the password they choose
and accept this invitation. If an account with that address appears in the meantime, the token refuses and the
person accepts from their account instead. Invitations expire, and staff can revoke them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services import audit
from services.accounts import passwords, usernames
from services.accounts.service import normalise_email
from services.accounts.sessions import create_session
from services.branding.brand import portal_url
from services.crypto import hash_token, new_token
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.mail.outgoing import send_after_commit
from services.models import Invitation, Membership, Organization, Role, User
from services.models.base import key, utcnow
from services.tenancy.scope import Actor, Forbidden, authorise, visible

INVITATION_DAYS = 7
INVALID = N_("This invitation link is invalid, was already used or has been withdrawn.")
EXPIRED = N_("This invitation has expired. Ask for a new one.")


@dataclass(frozen=True)
class Offer:
    id: int
    organization: str
    role: str
    email: str
    invited_by: str
    expires: datetime  # shown in the page's language (services.i18n.message.localise)


def invite(
    session: Session,
    actor: Actor | None,
    *,
    email: str,
    role: str,
    organization_id: int,
    ip: str = "",
    first_owner: bool = False,
) -> Invitation:
    """Offer `role` in the organization to `email`; the e-mail says how to accept. Returns the invitation.

    `first_owner`: the owner of a customer organization a seller's staff just created (it has no member yet), whom
    any role that manages customers may invite; otherwise only an owner makes owners."""
    checked = authorise(
        session,
        actor,
        "manage",
        action="users.invite",
        target=("organization", organization_id),
        organization_id=organization_id,
    )
    if role not in Role.ALL:
        raise ValidationFailed.single("role", say("must be one of {choices}", choices=", ".join(Role.ALL)))
    founding = first_owner and (
        session.exec(select(Membership).where(col(Membership.organization_id) == organization_id)).first() is None
    )
    if role == Role.OWNER and checked.role != Role.OWNER and not founding:
        raise ValidationFailed.single("role", N_("Only an owner can invite another owner."))
    return offer(
        session,
        inviter_user_id=checked.user_id,
        inviter_email=checked.email,
        audit_identity=checked.audit_fields(),
        email=email,
        role=role,
        organization_id=organization_id,
        ip=ip,
    )


def offer(
    session: Session,
    *,
    inviter_user_id: int,
    inviter_email: str,
    audit_identity: dict[str, Any],
    email: str,
    role: str,
    organization_id: int,
    ip: str = "",
) -> Invitation:
    """The invitation itself, once the caller has checked the inviter may offer `role` there: the row, the
    e-mail (a link that creates the account for a new address, a note to sign in for a known one), the audit."""
    email = normalise_email(email)
    org = session.get(Organization, organization_id)
    assert org is not None
    user = session.exec(select(User).where(col(User.email) == email)).first()
    if (
        user is not None
        and session.exec(
            select(Membership).where(
                col(Membership.user_id) == user.id, col(Membership.organization_id) == organization_id
            )
        ).first()
    ):
        raise ValidationFailed.single(
            "email", say("{email} is already a member of {name}.", email=email, name=org.name)
        )
    _withdraw_pending(session, organization_id, email, "superseded")
    token = None if user is not None else new_token()
    invitation = Invitation(
        organization_id=organization_id,
        email=email,
        role=role,
        invited_by_user_id=inviter_user_id,
        token_hash=hash_token(token) if token else None,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    base = portal_url(session, organization_id)
    context = {"inviter": inviter_email, "organization": org.name, "role": role, "days": INVITATION_DAYS}
    if token is None:
        send_after_commit(
            session,
            "invitation_existing",
            email,
            {**context, "invitations_url": f"{base}/invitations"},
            organization_id=organization_id,
        )
    else:
        send_after_commit(
            session,
            "invitation",
            email,
            context,
            organization_id=organization_id,
            links={"link": f"{base}/invitation?token={token}"},
        )
    audit.record(
        session,
        "users.invite",
        **audit_identity,
        target=("invitation", invitation.id),
        organization_id=organization_id,
        ip=ip,
        details={"email": email, "role": role, "existing_account": token is None},
    )
    return invitation


def _withdraw_pending(session: Session, organization_id: int, email: str, why: str) -> None:
    session.exec(
        update(Invitation)
        .where(
            col(Invitation.organization_id) == organization_id,
            col(Invitation.email) == email,
            col(Invitation.status) == "pending",
        )
        .values(status=why, responded_at=utcnow())
    )


def _offer(session: Session, invitation: Invitation) -> Offer:
    org = session.get(Organization, invitation.organization_id)
    inviter = session.get(User, invitation.invited_by_user_id) if invitation.invited_by_user_id else None
    return Offer(
        id=key(invitation),
        organization=org.name if org else "",
        role=invitation.role,
        email=invitation.email,
        invited_by=inviter.email if inviter else "",
        expires=invitation.expires_at,
    )


def pending_for(session: Session, user_id: int) -> list[Offer]:
    """Open invitations addressed to the user's confirmed e-mail address."""
    user = session.get(User, user_id)
    if user is None or user.email_verified_at is None or user.status != "active":
        return []
    rows = session.exec(
        select(Invitation)
        .where(
            col(Invitation.email) == user.email,
            col(Invitation.status) == "pending",
            col(Invitation.expires_at) > utcnow(),
        )
        .order_by(col(Invitation.id))
    ).all()
    return [_offer(session, row) for row in rows]


def respond(session: Session, user_id: int, invitation_id: int, *, accept: bool, ip: str = "") -> None:
    """Accept or decline one's own invitation: only the owner of the (confirmed) address may."""
    user = session.get(User, user_id)
    invitation = session.get(Invitation, invitation_id)
    if user is None or invitation is None or user.email_verified_at is None or invitation.email != user.email:
        audit.record_detached(
            session,
            "account.invitation_denied",
            actor_user_id=user_id,
            actor_label=user.email if user else "",
            target=("invitation", invitation_id),
            ip=ip,
        )
        raise Forbidden("That invitation is not addressed to you.")
    _claim(session, invitation, "accepted" if accept else "declined", user_id)
    if accept:
        _join(session, invitation, user)
    audit.record(
        session,
        "account.invitation_accepted" if accept else "account.invitation_declined",
        actor=user,
        target=("invitation", invitation.id),
        organization_id=invitation.organization_id,
        ip=ip,
        details={"role": invitation.role},
    )


def _claim(session: Session, invitation: Invitation, outcome: str, user_id: int | None) -> None:
    """Close a pending, unexpired invitation in one conditional UPDATE: a second click never counts twice."""
    if invitation.status == "pending" and invitation.expires_at <= utcnow():
        raise ValidationFailed.single("", EXPIRED)
    claimed = session.exec(
        update(Invitation)
        .where(col(Invitation.id) == invitation.id, col(Invitation.status) == "pending")
        .values(status=outcome, responded_at=utcnow(), user_id=user_id)
    ).rowcount
    if claimed != 1:
        raise ValidationFailed.single("", INVALID)


def _join(session: Session, invitation: Invitation, user: User) -> None:
    exists = session.exec(
        select(Membership).where(
            col(Membership.user_id) == user.id, col(Membership.organization_id) == invitation.organization_id
        )
    ).first()
    if exists is None:
        session.add(
            Membership(
                user_id=key(user),
                organization_id=invitation.organization_id,
                role=invitation.role,
            )
        )


def offer_for_token(session: Session, raw_token: str) -> Offer | None:
    """What the accept page shows for a new person's link (None for anything that is not an open invitation)."""
    invitation = _by_token(session, raw_token)
    return _offer(session, invitation) if invitation is not None else None


def _by_token(session: Session, raw_token: str) -> Invitation | None:
    if not raw_token:
        return None
    invitation = session.exec(select(Invitation).where(col(Invitation.token_hash) == hash_token(raw_token))).first()
    if invitation is None or invitation.status != "pending" or invitation.expires_at <= utcnow():
        return None
    return invitation


def accept_new_account(session: Session, raw_token: str, password: str, *, ip: str = "") -> User:
    """Create the invitee's own account with their password and accept the invitation; nothing else."""
    invitation = session.exec(
        select(Invitation).where(col(Invitation.token_hash) == hash_token(raw_token or ""))
    ).first()
    if invitation is None or invitation.status != "pending":
        raise ValidationFailed.single("token", INVALID)
    if session.exec(select(col(User.id)).where(col(User.email) == invitation.email)).first() is not None:
        raise ValidationFailed.single(
            "token",
            N_("An account with this e-mail address exists now. Sign in and accept the invitation from your account."),
        )
    username = free_username(session, invitation.email)
    if problem := passwords.password_problem(password, username=username, email=invitation.email):
        raise ValidationFailed.single("password", problem)
    _claim(session, invitation, "accepted", None)
    user = User(
        email=invitation.email,
        username=username,
        password_hash=passwords.hash_password(password),
        email_verified_at=utcnow(),
    )  # the link proved the mailbox
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ValidationFailed.single("token", N_("This account was just created. Please sign in.")) from exc
    invitation.user_id = user.id
    session.add(invitation)
    _join(session, invitation, user)
    audit.record(
        session,
        "account.invitation_accepted",
        actor=user,
        target=("invitation", invitation.id),
        organization_id=invitation.organization_id,
        ip=ip,
        details={"role": invitation.role, "new": True},
    )
    return user


def accept_and_sign_in(session: Session, raw_token: str, password: str, *, ip: str = "", user_agent: str = "") -> str:
    """The new person's whole acceptance: their account, the membership, and a signed-in session (its token)."""
    user = accept_new_account(session, raw_token, password, ip=ip)
    return create_session(session, key(user), ip=ip, user_agent=user_agent)


def free_username(session: Session, email: str) -> str:
    """A username (also a possible subdomain) from the address's local part, following every username rule."""
    base = "".join(c for c in email.split("@", maxsplit=1)[0].lower() if c.isalnum())[:20] or "user"
    candidate, n = base, 1
    while usernames.username_problem(session, candidate) is not None:
        n += 1
        candidate = f"{base if len(base) >= 3 else base + 'user'}{n}"
    return candidate


def list_pending(session: Session, actor: Actor | None) -> list[dict[str, str]]:
    """Open invitations into the actor's subtree, for the console's People tab."""
    checked = authorise(session, actor, "view", action="invitations.list", target=("invitation", "*"))
    rows = session.exec(
        select(Invitation, Organization)
        .join(
            Organization,
            col(Organization.id) == col(Invitation.organization_id),
        )
        .where(col(Invitation.status) == "pending", visible(checked, col(Invitation.organization_id)))
        .order_by(col(Invitation.id).desc())
        .limit(200)
    ).all()
    now = utcnow()
    return [
        {
            "id": str(i.id),
            "email": i.email,
            "role": i.role,
            "organization": o.name,
            "expires": i.expires_at.strftime("%Y-%m-%d"),
            "expired": "yes" if i.expires_at <= now else "",
        }
        for i, o in rows
    ]


def revoke(session: Session, actor: Actor | None, invitation_id: int, *, ip: str = "") -> None:
    invitation = session.get(Invitation, invitation_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action="invitations.revoke",
        target=("invitation", invitation_id),
        organization_id=invitation.organization_id if invitation else -1,
    )
    assert invitation is not None
    withdraw(session, invitation, "users.invitation_revoked", checked.audit_fields(), ip)


def withdraw(session: Session, invitation: Invitation, action: str, audit_identity: dict[str, Any], ip: str) -> None:
    """Withdraw an open invitation, once the caller has checked who may (staff or a customer's own team)."""
    if invitation.status != "pending":
        raise ValidationFailed.single("", N_("Only an open invitation can be withdrawn."))
    invitation.status, invitation.responded_at = "revoked", utcnow()
    session.add(invitation)
    audit.record(
        session,
        action,
        **audit_identity,
        target=("invitation", invitation.id),
        organization_id=invitation.organization_id,
        ip=ip,
        details={"email": invitation.email, "role": invitation.role},
    )
