"""A new customer in one step: account, customer organization, subscription, instance, the checkout for a paid
plan, and a signed-in session. All or nothing: a refusal anywhere leaves no account behind."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from services.accounts import service
from services.accounts.language import set_language
from services.accounts.sessions import create_session
from services.billing.enrolment import enrol
from services.i18n import LANGUAGES


@dataclass(frozen=True)
class Welcome:
    session_token: str
    next_url: str  # the checkout for a paid plan, else the dashboard


def sign_up_for_plan(
    session: Session,
    *,
    email: str,
    username: str,
    password: str,
    plan_slug: str,
    seller_id: int | None,
    ip: str = "",
    user_agent: str = "",
    request_host: str = "",
    language: str = "",
) -> Welcome:
    """Sign-up on a seller's host (`seller_id`: whose plans and whose tree; None for the platform's own), in the
    language the page was shown in: kept on the account, so the e-mails that follow are written in it."""
    result = service.signup(session, email=email, username=username, password=password, ip=ip, parent_org_id=seller_id)
    if language in LANGUAGES:
        set_language(session, result.user_id, language)
    enrolment = enrol(
        session,
        organization_id=result.organization_id,
        email=result.email,
        plan_slug=plan_slug,
        request_host=request_host,
    )
    token = create_session(session, result.user_id, ip=ip, user_agent=user_agent)
    return Welcome(session_token=token, next_url=enrolment.checkout_url or "/dashboard")
