"""Sending e-mail from the domain: queued after the caller's commit, rendered and delivered by the consumer.

Rendering happens in the job, not in the web worker: a seller's template override runs (within its limits)
off the web process entirely, and a brand edited in between is the brand the e-mail shows.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

from sqlmodel import Session

from services.branding.brand import brand_for
from services.db import after_commit, session_scope
from services.i18n.recipients import recipient_language
from services.jobs.queue import task
from services.mail.compose import render
from services.mail.transport import deliver


@task(retries=5, retry_delay=30)
def send_templated(
    template: str, to: str, context: dict[str, Any], organization_id: int | None, links: dict[str, str]
) -> None:
    """Retried with a delay, so an SMTP outage delays mail instead of losing it."""
    with session_scope() as session:
        brand = brand_for(session, organization_id)
        language = recipient_language(session, to, brand.language)
    deliver(render(template, to, context, brand, links, language))


@task(retries=5, retry_delay=30)
def deliver_email(raw: bytes) -> None:
    """A message built elsewhere (e.g. by a test or an operator tool), delivered with the same retries."""
    deliver(message_from_bytes(raw, policy=policy.default))


def send_after_commit(
    session: Session,
    template: str,
    to: str,
    context: dict[str, Any],
    *,
    organization_id: int | None,
    links: dict[str, str] | None = None,
) -> None:
    """Queue the e-mail once the caller's transaction commits, so a rolled-back sign-up sends nothing.

    `organization_id` chooses the brand (the seller's brand is inherited down the tree); `links` are the
    token-bearing URLs, which a seller's template can only place where services/mail/links.py allows.
    """
    payload = (template, to, dict(context), organization_id, dict(links or {}))
    after_commit(session, lambda: send_templated(*payload))
