"""The accounts domain's periodic work: forgetting sessions and e-mail tokens that can no longer be used."""

from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy import delete, or_
from sqlmodel import col

from services.db import session_scope
from services.jobs.queue import periodic_task
from services.models import AuthSession, UserToken
from services.models.base import utcnow

log = logging.getLogger(__name__)


@periodic_task(crontab(minute="17", hour="*"), period_seconds=3600)
def purge_expired_sessions() -> int:
    now = utcnow()
    with session_scope() as session:
        sessions = session.exec(
            delete(AuthSession).where(or_(col(AuthSession.expires_at) < now, col(AuthSession.revoked_at).is_not(None)))
        ).rowcount
        tokens = session.exec(delete(UserToken).where(col(UserToken.expires_at) < now)).rowcount
    log.info("purged %s sessions and %s tokens", sessions, tokens)
    return int(sessions or 0) + int(tokens or 0)
