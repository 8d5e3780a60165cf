"""A Stripe event that fails every retry is an incident for the platform's staff: one e-mail, a console notice,
resolved when a replay goes through. Earlier failed attempts alert nobody."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from services.billing import tasks
from services.billing.handlers import replay
from services.models import Incident, Organization, OrgKind, Role, StripeEvent
from services.ops import incidents
from tests.support.billing import Billing, checkout_completed, paid_customer, payload
from tests.support.factories import staff_member
from tests.support.mailbox import staff_alerts


def test_the_last_failed_retry_alerts_once_and_a_replay_resolves(db: Session, billing: Billing, outbox: Path) -> None:
    customer = paid_customer(db, billing, "unlucky")
    platform = db.exec(select(Organization).where(Organization.kind == OrgKind.PLATFORM)).one()
    staff_member(db, "oncall", platform, Role.ADMIN)
    db.commit()
    billing.stripe.fail_with = 503
    assert billing.post(payload(checkout_completed(customer)))[0] == 200  # stored; handling fails behind it
    stripe_id = db.exec(select(StripeEvent.stripe_id)).one()

    with pytest.raises(Exception):
        tasks.handle_stripe_event.call_local(stripe_id, task=SimpleNamespace(retries=3))
    assert staff_alerts(outbox) == []  # retries remain: nobody is woken up yet
    for _ in range(2):
        with pytest.raises(Exception):
            tasks.handle_stripe_event.call_local(stripe_id, task=SimpleNamespace(retries=0))
    assert staff_alerts(outbox) == ["oncall@example.com"]  # the last retry failed, twice: one e-mail
    db.expire_all()
    incident = db.exec(select(Incident)).one()
    assert incident.kind == incidents.WEBHOOK_FAILED and stripe_id in incident.title and incident.occurrences == 2

    billing.stripe.fail_with = None
    assert replay(stripe_id) == "processed"
    db.expire_all()
    assert db.exec(select(Incident)).one().resolved_at is not None
