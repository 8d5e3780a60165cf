"""Staff hear of a parked action once, by e-mail and in the console: the platform's staff and the staff of the
resellers above the customer (in their own brand), nobody else; a recurrence is counted, not mailed again."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from services.models import AppTemplate, Branding, Incident, Organization
from services.ops import incidents
from services.provisioning import actions, engine
from services.provisioning.errors import PermanentError, ProvisioningError
from tests.support import tenants
from tests.support.factories import customer_instance
from tests.support.mailbox import outbox_messages, staff_alerts, text_of
from tests.support.memory_backend import request


def test_a_parked_action_alerts_its_sellers_staff_once_and_shows_until_it_succeeds(
    db: Session, tree: dict, memory, outbox: Path
) -> None:  # type: ignore[no-untyped-def]
    backend, _ = memory
    instance = customer_instance(db, "broken", parent=tree["sub_a"])
    template = db.get(AppTemplate, instance.app_template_id)
    template.backend = "memory"  # type: ignore[union-attr]
    db.add(template)
    reseller_a = db.exec(select(Organization).where(Organization.slug == "reseller-a")).one()
    db.add(Branding(organization_id=reseller_a.id, platform_name="Acme Cloud"))  # type: ignore[arg-type]
    db.commit()
    backend.fail["deploy"] = [PermanentError("image local/nope not found")]
    action_id = request(db, instance, actions.PROVISION)

    assert engine.execute(action_id) == "parked"

    # the platform's owner and reseller A's admin and support; not A's billing person, not reseller B
    assert staff_alerts(outbox) == ["a-admin@example.com", "a-support@example.com", "operator@example.com"]
    mail = next(m for m in outbox_messages(outbox) if m["To"] == "a-admin@example.com")
    assert "provision of broken is parked" in str(mail["Subject"]) and "image local/nope not found" in text_of(mail)
    assert "Acme Cloud" in str(mail["From"])  # the reseller's staff hear it in the reseller's brand
    operator_mail = next(m for m in outbox_messages(outbox) if m["To"] == "operator@example.com")
    assert "Acme Cloud" not in str(operator_mail["From"])  # the platform's staff, in the platform's
    titles = {
        name: [n.title for n in incidents.open_notices(db, tenants.actor(db, tree, name))]
        for name in ("operator", "a-admin", "b-admin")
    }  # type: ignore[arg-type]
    assert titles["operator"] == titles["a-admin"] == ["provision of broken is parked"] and titles["b-admin"] == []

    # the admin retries before the cause is fixed: it parks again, counted on the same incident, no new e-mail
    backend.fail["deploy"] = [PermanentError("image local/nope not found")]
    engine.retry_parked(db, action_id, requested_by="a-admin@example.com")
    db.commit()
    assert engine.execute(action_id) == "parked"
    assert len(staff_alerts(outbox)) == 3
    db.expire_all()
    incident = db.exec(select(Incident)).one()
    assert incident.occurrences == 2 and incident.resolved_at is None

    # fixed: the retry goes through, the incident is resolved and leaves the console
    engine.retry_parked(db, action_id, requested_by="a-admin@example.com")
    db.commit()
    assert engine.execute(action_id) == "succeeded"
    db.expire_all()
    assert db.exec(select(Incident)).one().resolved_at is not None
    assert incidents.open_notices(db, tenants.actor(db, tree, "operator")) == []  # type: ignore[arg-type]


def test_a_retry_that_is_still_retrying_alerts_nobody(db: Session, memory, outbox: Path) -> None:  # type: ignore[no-untyped-def]
    backend, _ = memory
    from tests.support.memory_backend import memory_instance

    backend.fail["deploy"] = [ProvisioningError("engine busy")]
    action_id = request(db, memory_instance(db, "flaky"), actions.PROVISION)
    assert engine.execute(action_id) == "retrying"
    assert staff_alerts(outbox) == [] and db.exec(select(Incident)).all() == []
