"""A rotated key reaches the instance (a redeploy), the customer's other calls are refused; a gateway that stops
answering is one incident for the platform's staff, resolved when it answers again."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from services.customer import instance_control as control
from services.errors import ValidationFailed
from services.gateway import tasks
from services.models import AuditEvent, Incident, ProvisioningAction
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance
from tests.support.servers import free_port
from tests.support.tenants import customer


@pytest.mark.parametrize("rotate", [control.rotate_usage_token, control.rotate_ai_gateway_key])
def test_a_rotated_key_is_redeployed_into_a_running_instance_and_never_audited(
    db: Session, settings_env: SettingsEnv, scheduled_actions: list, rotate: object
) -> None:
    settings_env.setenv("AI_GATEWAY_URL", f"http://127.0.0.1:{free_port()}")
    instance = customer_instance(db, "gw-rotate", limits={"ai_models": ["small-model"]})
    instance.status = "running"
    db.add(instance)
    db.commit()
    secret = rotate(db, customer(db, "gw-rotate"), instance.id)  # type: ignore[operator]
    db.commit()
    action = db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == instance.id)).one()
    assert action.action == "apply_limits" and len(scheduled_actions) == 1  # its environment gets the new key
    trail = db.exec(select(AuditEvent)).all()
    assert trail and all(secret not in repr(event.model_dump()) for event in trail)


def test_no_gateway_key_for_a_plan_without_ai_models(db: Session, settings_env: SettingsEnv) -> None:
    settings_env.setenv("AI_GATEWAY_URL", f"http://127.0.0.1:{free_port()}")
    instance = customer_instance(db, "gw-none")
    with pytest.raises(ValidationFailed, match="does not include AI models"):
        control.rotate_ai_gateway_key(db, customer(db, "gw-none"), instance.id)  # type: ignore[arg-type]


def test_a_silent_gateway_is_one_incident_until_it_answers(
    db: Session, settings_env: SettingsEnv, outbox: object
) -> None:
    settings_env.setenv("AI_GATEWAY_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    tasks.watch_gateway()
    tasks.watch_gateway()
    db.expire_all()
    incident = db.exec(select(Incident)).one()
    assert (incident.key, incident.occurrences, incident.resolved_at) == ("ai-gateway", 2, None)

    class Alive(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'"I\'m alive!"')

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Alive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings_env.setenv("AI_GATEWAY_URL", f"http://127.0.0.1:{server.server_address[1]}")
        tasks.watch_gateway()  # it answers again: resolved, so the next silence alerts anew
    finally:
        server.shutdown()
    db.expire_all()
    assert db.exec(select(Incident)).one().resolved_at is not None
