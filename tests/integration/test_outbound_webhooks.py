"""Outbound webhooks to a real receiver on loopback that verifies every delivery with `standardwebhooks`: who hears
of what, retries until it is received, replay with the same id, endpoints disabled after a run of failures, secret
rotation, and targets that are refused (private addresses, names that resolve to loopback, redirects)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from portal.api import build_api
from services.db import session_scope
from services.errors import ValidationFailed
from services.models import Organization, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from services.provisioning import actions, engine
from services.provisioning.backends import register
from services.provisioning.errors import PermanentError
from services.webhooks import delivery, endpoints
from services.webhooks.outbox import emit
from tests.conftest import SettingsEnv
from tests.support.api import bearer, licensed, token_for
from tests.support.certificates import ThrowawayAuthority
from tests.support.mailbox import outbox_messages
from tests.support.memory_backend import MemoryBackend, memory_instance, request
from tests.support.receiver import Receiver, receiver


@pytest.fixture()
def hooks(tree: dict, db: Session, settings_env: SettingsEnv) -> Iterator[Receiver]:
    settings_env.setenv("WEBHOOKS_ALLOW_PRIVATE", "1")  # the receiver is on loopback
    settings_env.setenv("WEBHOOK_RETRY_SCALE", "0.0001")
    licensed(db, "reseller-a", "reseller-b")
    with receiver() as running:
        yield running


def _org(db: Session, slug: str) -> Organization:
    return db.exec(select(Organization).where(Organization.slug == slug)).one()


def _endpoint(db: Session, slug: str, url: str, types: list[str]) -> tuple[WebhookEndpoint, str]:
    endpoint, secret = endpoints.create(
        db,
        _org(db, slug).id,
        url=url,
        event_types=types,
        user_id=None,
        audit_fields={"actor_label": "test"},  # type: ignore[arg-type]
    )
    db.commit()
    return endpoint, secret


def _emit(org_id: int, type_: str, data: dict | None = None) -> None:
    with session_scope() as session:  # committed: the fan-out and the delivery run right after (jobs run inline)
        emit(session, org_id, type_, data or {"n": 1})


def test_the_organization_and_its_sellers_hear_of_events_they_asked_for_signed(hooks: Receiver, db: Session) -> None:
    _, secret = _endpoint(db, "reseller-a", hooks.url, ["instance.provisioned", "customer.created"])
    hooks.secrets.append(secret)
    with receiver() as other:  # reseller B's endpoint hears nothing of reseller A's customers
        _, other_secret = _endpoint(db, "reseller-b", other.url, ["instance.provisioned"])
        other.secrets.append(other_secret)
        _emit(_org(db, "cust-a").id, "instance.provisioned", {"instance_id": 1})  # type: ignore[arg-type]
        _emit(_org(db, "cust-a").id, "instance.stopped")  # type: ignore[arg-type]  # not asked for
        _emit(_org(db, "sub-a").id, "customer.created")  # type: ignore[arg-type]
        assert other.received == [] and other.hits == 0
    assert [r["type"] for r in hooks.received] == ["instance.provisioned", "customer.created"]
    assert hooks.rejected == []
    assert hooks.received[0]["payload"]["data"] == {"instance_id": 1}


def test_a_receiver_that_fails_five_times_gets_the_event_once_in_effect(hooks: Receiver, db: Session) -> None:
    endpoint, secret = _endpoint(db, "reseller-a", hooks.url, ["instance.failed"])
    hooks.secrets.append(secret)
    hooks.fail_next = 5
    _emit(_org(db, "cust-a").id, "instance.failed")  # type: ignore[arg-type]
    row = db.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)).one()
    for _ in range(10):  # each retry as the queue runs it when due
        db.expire_all()
        if db.get(WebhookDelivery, row.id).status != "pending":  # type: ignore[union-attr]
            break
        delivery.deliver(row.id)  # type: ignore[arg-type]
    db.expire_all()
    done = db.get(WebhookDelivery, row.id)
    assert done is not None and done.status == "succeeded" and done.attempts == 6
    assert hooks.hits == 6 and len(hooks.unique_ids()) == 1
    log = db.exec(select(WebhookAttempt).where(WebhookAttempt.delivery_id == row.id)).all()
    assert [a.status_code for a in log] == [500] * 5 + [204]
    assert all("webhook-signature" not in a.request_headers for a in log)  # the log keeps no signature

    client, token = TestClient(build_api()), token_for(db, "a-admin", "reseller-a")
    replayed = client.post(f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries/{row.id}/replay", headers=bearer(token))
    assert replayed.status_code == 202, replayed.text
    assert hooks.hits == 7 and hooks.unique_ids() == [hooks.received[0]["id"]]  # the same event id again
    listed = client.get(f"/api/v1/webhook-endpoints/{endpoint.id}/deliveries", headers=bearer(token)).json()
    assert listed["items"][0]["status"] == "succeeded" and listed["items"][0]["attempts"] == 7


def test_an_endpoint_that_keeps_failing_is_disabled_its_owner_told_and_sent_nothing_more(
    hooks: Receiver, db: Session, settings_env: SettingsEnv
) -> None:
    settings_env.setenv("WEBHOOK_DISABLE_AFTER", "3")
    endpoint, secret = _endpoint(db, "reseller-a", hooks.url, ["instance.failed"])
    hooks.secrets.append(secret)
    hooks.fail_next = 100
    _emit(_org(db, "cust-a").id, "instance.failed")  # type: ignore[arg-type]
    row = db.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)).one()
    for _ in range(5):
        delivery.deliver(row.id)  # type: ignore[arg-type]
    db.expire_all()
    assert db.get(WebhookEndpoint, endpoint.id).enabled is False  # type: ignore[union-attr]
    assert hooks.hits == 3  # nothing after it was disabled
    told = [m for m in outbox_messages(_outbox()) if "webhook endpoint" in str(m["Subject"])]
    assert [str(m["To"]) for m in told] == ["a-admin@example.com"]
    _emit(_org(db, "cust-a").id, "instance.failed")  # type: ignore[arg-type]
    assert hooks.hits == 3


def _outbox():  # type: ignore[no-untyped-def]
    from services.config import get_settings

    return get_settings().outbox_dir


def test_after_a_rotation_both_secrets_verify_for_a_while(hooks: Receiver, db: Session) -> None:
    endpoint, old = _endpoint(db, "reseller-a", hooks.url, ["customer.created"])
    new = endpoints.rotate_secret(db, endpoint, audit_fields={"actor_label": "test"})
    db.commit()
    hooks.secrets.append(old)  # a receiver that has not switched yet
    _emit(_org(db, "cust-a").id, "customer.created")  # type: ignore[arg-type]
    hooks.secrets[:] = [new]  # and one that has
    _emit(_org(db, "cust-a").id, "customer.created")  # type: ignore[arg-type]
    assert len(hooks.received) == 2 and hooks.rejected == []


@pytest.mark.parametrize(
    "url,why",
    [
        ("http://127.0.0.1:9/x", "private or local"),
        ("http://localhost:9/x", "private or local"),  # a name that resolves to loopback
        ("http://10.1.2.3/x", "private or local"),
        ("http://169.254.169.254/latest/meta-data", "private or local"),  # a cloud's metadata address
        ("http://[::1]/x", "private or local"),
        ("ftp://example.org/x", "must start with https"),
        ("https://user:pw@example.org/x", "without a user"),
        ("https://no-such-host.invalid/x", "does not resolve"),
    ],
)
def test_targets_on_this_machine_or_private_networks_are_refused(
    tree: dict, db: Session, settings_env: SettingsEnv, url: str, why: str
) -> None:
    settings_env.setenv("WEBHOOKS_ALLOW_PRIVATE", "0")
    with pytest.raises(ValidationFailed, match=why):
        _endpoint(db, "reseller-a", url, ["customer.created"])


def test_the_address_is_checked_again_at_delivery_and_redirects_are_not_followed(
    hooks: Receiver, db: Session, settings_env: SettingsEnv
) -> None:
    endpoint, secret = _endpoint(db, "reseller-a", hooks.url, ["customer.created"])
    hooks.secrets.append(secret)
    with receiver() as target:
        hooks.redirect_to = target.url
        _emit(_org(db, "cust-a").id, "customer.created")  # type: ignore[arg-type]
        assert target.hits == 0  # the redirect was not followed
    row = db.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)).one()
    assert row.last_status_code == 302 and row.status == "pending"
    settings_env.setenv("WEBHOOKS_ALLOW_PRIVATE", "0")  # the name now leads somewhere not allowed
    hooks.redirect_to = ""
    hits = hooks.hits
    delivery.deliver(row.id)  # type: ignore[arg-type]
    db.expire_all()
    again = db.get(WebhookDelivery, row.id)
    assert again is not None and "refused" in again.last_error and hooks.hits == hits  # not even asked


def test_instance_events_come_from_the_engine(
    hooks: Receiver, db: Session, settings_env: SettingsEnv, scheduled_actions: list
) -> None:
    settings_env.setenv("PROXY_BACKEND", "none")
    backend = MemoryBackend()
    register("memory", lambda: backend)
    instance = memory_instance(db, "hooked")
    _, secret = _endpoint(db, "hooked", hooks.url, ["instance.provisioned", "instance.stopped", "instance.parked"])
    hooks.secrets.append(secret)
    assert engine.execute(request(db, instance, actions.PROVISION)) == "succeeded"
    assert engine.execute(request(db, instance, actions.STOP)) == "succeeded"
    backend.fail["deploy"] = [PermanentError("the image is gone")]
    assert engine.execute(request(db, instance, actions.RESTART)) == "parked"
    assert [r["type"] for r in hooks.received] == ["instance.provisioned", "instance.stopped", "instance.parked"]
    assert hooks.received[0]["payload"]["data"]["subdomain"] == "hooked"
    assert "the image is gone" in hooks.received[2]["payload"]["data"]["error"]


@pytest.mark.parametrize(
    "url", ["http://[", "https://[::1", "http://exa mple.org/", "https://example.org:99999/", "http://"]
)
def test_a_url_that_cannot_be_read_is_refused_plainly(tree: dict, db: Session, url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _endpoint(db, "reseller-a", url, ["customer.created"])
    assert "url" in refused.value.errors


def test_https_deliveries_check_the_certificate_against_the_endpoints_name(
    hooks: Receiver,
    db: Session,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """The request goes to the address checked at delivery, but TLS still verifies the URL's own name."""
    authority = ThrowawayAuthority(tmp_path)
    monkeypatch.setattr(delivery, "_tls", authority.client_context)
    with receiver(tls=authority.server_context("localhost"), name="localhost") as good:
        _, secret = _endpoint(db, "reseller-a", good.url, ["customer.created"])
        good.secrets.append(secret)
        with receiver(tls=authority.server_context("someone-else.test"), name="localhost") as wrong:
            endpoint, wrong_secret = _endpoint(db, "reseller-b", wrong.url, ["customer.created"])
            wrong.secrets.append(wrong_secret)
            _emit(_org(db, "cust-a").id, "customer.created")  # type: ignore[arg-type]
            _emit(_org(db, "cust-b").id, "customer.created")  # type: ignore[arg-type]
            assert wrong.received == []
    assert [r["type"] for r in good.received] == ["customer.created"]
    failed = db.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)).one()
    assert failed.status == "pending" and failed.last_status_code is None
    assert "certificate" in failed.last_error.lower(), failed.last_error


def test_an_event_whose_job_was_lost_goes_out_with_the_minutes_sweep_despite_a_dead_pumps_hold(
    hooks: Receiver, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from services.jobs.queue import huey
    from services.webhooks import outbox, tasks

    _, secret = _endpoint(db, "reseller-a", hooks.url, ["customer.created"])
    hooks.secrets.append(secret)
    monkeypatch.setattr(outbox._Queue, "fan_out", None)  # the queue lost the event's job
    _emit(_org(db, "cust-a").id, "customer.created")  # type: ignore[arg-type]
    assert hooks.hits == 0
    huey.put(f"hold:{tasks.PUMP_HOLD}", str(time.time()).encode())  # a pump is at it: the sweep leaves it the work
    tasks.deliver_due_webhooks.call_local()
    assert hooks.hits == 0
    huey.put(f"hold:{tasks.PUMP_HOLD}", str(time.time() - 2 * tasks.STALE_SECONDS).encode())  # its consumer was killed
    tasks.deliver_due_webhooks.call_local()
    assert [r["type"] for r in hooks.received] == ["customer.created"] and hooks.rejected == []
    with session_scope() as session:
        assert not outbox.waiting(session)
