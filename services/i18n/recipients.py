"""The language of an e-mail: its recipient's chosen one if they have an account, else the seller's default.
(Here rather than in services.accounts, which sends mail: the mail package may ask it without a cycle.)"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.i18n.negotiate import choose_language
from services.models import User


def recipient_language(session: Session, email: str, seller_default: str | None) -> str:
    chosen = session.exec(
        select(col(User.language)).where(func.lower(col(User.email)) == email.strip().lower())
    ).first()
    return choose_language(chosen, None, seller_default)
