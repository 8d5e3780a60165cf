"""Erasure's clock: a closed account's organization loses its last names once its instance is removed."""

from __future__ import annotations

from huey import crontab

from services.db import session_scope
from services.jobs.queue import periodic_task
from services.privacy.erasure import finish_erasures


@periodic_task(crontab(minute="*/10"), period_seconds=600)
def finish_pending_erasures() -> None:
    """The instance of a deleted account is removed after its plan's retention (the billing timeline); then its
    organization's address, the instance's name and its domains go too."""
    with session_scope() as session:
        finish_erasures(session)
