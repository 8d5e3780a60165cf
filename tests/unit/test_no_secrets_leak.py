"""No secret reaches the audit log, the logs or an e-mail, wherever a person types it: a marker secret goes
into every password, code, token and identifier field of every form and API, and nothing may repeat it."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from portal.api import WebhookFastPath, api_transformer
from services import audit
from services.accounts import invitations, service, two_factor
from services.accounts import login as login_flow
from services.models import AuditEvent, Instance, User
from services.provisioning import steps
from services.provisioning.credentials import ensure_credentials, load_credentials
from services.tenancy.scope import resolve_actor
from tests.support.billing import reflex_stand_in
from tests.support.factories import customer_instance

MARKER = "Mk7-SECRET-q9Zx41-do-not-log"


def _scan(db: Session, caplog: pytest.LogCaptureFixture, outbox: Path, secret: str) -> list[str]:
    """Where the secret shows up: audit rows, captured log records, e-mails in the outbox."""
    found = []
    for event in db.exec(select(AuditEvent)).all():
        if secret in json.dumps(event.model_dump(mode="json")):
            found.append(f"audit {event.action}")
    if secret in caplog.text:
        found.append("logs")
    found += [f"mail {p.name}" for p in outbox.glob("*.eml") if secret.encode() in p.read_bytes()]
    return found


def _attempt(db: Session, call) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(Exception):
        call()
        db.commit()
    db.rollback()


def test_a_secret_typed_into_any_field_is_never_recorded(
    db: Session, caplog: pytest.LogCaptureFixture, outbox: Path, tree: dict
) -> None:
    caplog.set_level(logging.DEBUG)
    result = service.signup(db, email="victim@example.com", username="victim", password=MARKER + "-as-password")
    db.commit()
    user_id = result.user_id
    attempts = [
        lambda: login_flow.login(db, identifier=MARKER, password=MARKER, ip="10.0.0.1"),  # password typed as name
        lambda: login_flow.login(db, identifier="victim", password=MARKER, ip="10.0.0.1"),
        lambda: login_flow.login(db, identifier="victim@example.com", password=MARKER + "-as-password", code=MARKER),
        lambda: service.request_password_reset(db, f"{MARKER}@example.com"),
        lambda: service.reset_password(db, MARKER, MARKER + "-new"),
        lambda: service.verify_email(db, MARKER),
        lambda: service.change_password(db, user_id, MARKER, MARKER + "-new", None),
        lambda: service.change_password(db, user_id, MARKER + "-as-password", MARKER + "-changed", None),
        lambda: two_factor.confirm(db, user_id, MARKER),
        lambda: two_factor.disable(db, user_id, MARKER),
        lambda: invitations.accept_new_account(db, MARKER, MARKER + "-pass"),
        lambda: invitations.invite(
            db,
            resolve_actor(db, tree["users"]["a-admin"].id, "a-admin@example.com"),
            email="newcomer@example.com",
            role="support",
            organization_id=tree["sub_a"].parent_id,
        ),
    ]
    for attempt in attempts:
        _attempt(db, attempt)
    api = TestClient(WebhookFastPath(api_transformer(reflex_stand_in)), raise_server_exceptions=False)
    api.get("/api/v1/budget", headers={"Authorization": f"Bearer pit_{MARKER}"})
    api.post("/api/v1/usage", content=json.dumps({"records": []}), headers={"Authorization": f"Bearer {MARKER}"})
    api.post("/api/stripe/webhook", content=b"{}", headers={"Stripe-Signature": f"t=1,v1={MARKER}"})
    assert db.exec(select(AuditEvent)).all(), "the attempts were audited"
    assert _scan(db, caplog, outbox, MARKER) == []


def test_an_instances_generated_password_never_leaves_the_dashboard(
    db: Session, caplog: pytest.LogCaptureFixture, outbox: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    instance = customer_instance(db, "owner")
    ensure_credentials(db, instance)
    db.commit()
    password = load_credentials(db.get(Instance, instance.id))["admin_password"]  # type: ignore[arg-type]
    steps.send_welcome(steps.StepContext(instance_id=instance.id, backend=None, proxy=None))  # type: ignore[arg-type]
    assert [m for m in outbox.glob("*.eml")], "the welcome e-mail went out"
    assert _scan(db, caplog, outbox, password) == []


def test_audit_details_are_redacted_by_key_at_any_depth(db: Session) -> None:
    user = User(email="r@example.com", username="redacted", password_hash="x")
    db.add(user)
    db.flush()
    audit.record(
        db,
        "test.redaction",
        actor=user,
        details={
            "password": MARKER,
            "new_password": MARKER,
            "api_key": MARKER,
            "Authorization": MARKER,
            "nested": {"token": MARKER, "list": [{"secret": MARKER}, {"totp_code": MARKER}]},
            "email": "kept",
        },
    )
    db.commit()
    stored = db.exec(select(AuditEvent).where(AuditEvent.action == "test.redaction")).one().details
    assert MARKER not in json.dumps(stored)
    assert stored["email"] == "kept" and stored["nested"]["list"][0]["secret"] == audit.REDACTED
