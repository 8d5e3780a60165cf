from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from services.accounts import service
from services.accounts.service import SignupResult
from tests.support.mailbox import link_in, outbox_messages

GOOD_PASSWORD = "correct horse battery"


def sign_up(
    db: Session, username: str = "alice", email: str = "alice@example.com", password: str = GOOD_PASSWORD
) -> SignupResult:
    result = service.signup(db, email=email, username=username, password=password)
    db.commit()
    return result


def last_link(outbox: Path, subject_word: str) -> str:
    messages = [m for m in outbox_messages(outbox) if subject_word.lower() in m["Subject"].lower()]
    assert messages, f"no e-mail with {subject_word!r} in the subject"
    return link_in(messages[-1])


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]
