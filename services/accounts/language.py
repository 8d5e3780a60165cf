"""A person's language: what they chose (header switch or account page), kept on their account so e-mails to them
are written in it too. The choice of the page's language from it is services.i18n.choose_language."""

from __future__ import annotations

from sqlmodel import Session

from services.errors import ValidationFailed
from services.i18n import LANGUAGES, choose_language
from services.i18n.message import say
from services.models import User


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationFailed.single("language", say("must be one of {choices}", choices=", ".join(LANGUAGES)))
    return language


def set_language(session: Session, user_id: int, language: str) -> None:
    """The signed-in person's own choice (their id from their session, never from the page)."""
    user = session.get(User, user_id)
    if user is not None:
        user.language = check_language(language)
        session.add(user)


def page_language(
    session: Session, user_id: int, chosen_here: str, accept_language: str | None, seller_default: str | None
) -> str:
    """The person's saved choice, else this browser's (a visitor's header switch), else Accept-Language, else the
    seller's default. A signed-in person with no saved choice who chose here keeps it on their account: a visitor
    who switched to German and then signed up gets their e-mails in German too."""
    user = session.get(User, user_id) if user_id else None
    saved = user.language if user is not None else None
    if user is not None and saved is None and chosen_here in LANGUAGES:
        user.language = saved = chosen_here
        session.add(user)
    return choose_language(saved or chosen_here or None, accept_language, seller_default)
