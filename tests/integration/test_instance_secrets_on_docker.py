"""An instance's secrets reach the running app on a real Docker engine (its /cgi-bin/env shows its environment):
its usage token and AI gateway key from the first deploy, and each rotation or admin password reset after a
redeploy; the old values are gone from it."""

from __future__ import annotations

import httpx
from sqlmodel import Session

from services.customer import instance_control as control
from services.keys.usage_tokens import resolve_instance_token
from services.models import AppTemplate, Instance, ProvisioningAction
from services.provisioning import actions, engine
from services.provisioning.credentials import load_credentials
from tests.support.env import SettingsEnv
from tests.support.factories import ENV_TEMPLATE, customer_instance
from tests.support.provisioning import Provisioning
from tests.support.servers import free_port
from tests.support.tenants import customer

KEYS_TEMPLATE = ENV_TEMPLATE + (
    "PORTAL_API_URL={{ portal.api_url }}\nPORTAL_USAGE_TOKEN={{ portal.usage_token }}\n"
    "AI_GATEWAY_URL={{ gateway.url }}\nAI_GATEWAY_KEY={{ gateway.key }}\n"
)


def _env(p: Provisioning, subdomain: str) -> dict[str, str]:
    text = httpx.get(
        f"http://127.0.0.1:{p.proxy_port}/cgi-bin/env", headers={"Host": f"{subdomain}.localhost"}, timeout=5
    ).text
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _run_latest(p: Provisioning, db: Session, instance: Instance) -> None:
    action = engine.active_action(db, instance.id)  # type: ignore[arg-type]
    assert isinstance(action, ProvisioningAction) and action.action == actions.APPLY_LIMITS
    db.commit()
    assert p.run(action.id) == "succeeded"


def test_keys_and_a_reset_password_reach_the_running_instance(
    provisioning: Provisioning, db: Session, settings_env: SettingsEnv
) -> None:
    settings_env.setenv("AI_GATEWAY_URL", f"http://127.0.0.1:{free_port()}")
    instance = customer_instance(db, "keys1", limits={"memory_mb": 64, "ai_models": ["small-model"]})
    template = db.get(AppTemplate, instance.app_template_id)
    template.env_template = KEYS_TEMPLATE  # type: ignore[union-attr]
    db.add(template)
    row = engine.request_action(db, instance, actions.PROVISION, requested_by="test")
    db.commit()
    assert provisioning.run(row.id) == "succeeded"
    db.refresh(instance)

    first = _env(provisioning, "keys1")
    owner = resolve_instance_token(db, f"Bearer {first['PORTAL_USAGE_TOKEN']}")
    assert owner is not None and owner.instance_id == instance.id  # the instance can report its usage as it is
    assert first["AI_GATEWAY_KEY"].startswith("sk-pgw-") and first["PORTAL_API_URL"].endswith("/api/v1")

    who = customer(db, "keys1")
    new_key = control.rotate_ai_gateway_key(db, who, instance.id)  # type: ignore[arg-type]
    _run_latest(provisioning, db, instance)
    db.refresh(instance)
    assert _env(provisioning, "keys1")["AI_GATEWAY_KEY"] == new_key != first["AI_GATEWAY_KEY"]

    password = control.reset_admin_password(db, who, instance.id)  # type: ignore[arg-type]
    _run_latest(provisioning, db, instance)
    after = _env(provisioning, "keys1")
    assert after["ADMIN_PASSWORD"] == password != first["ADMIN_PASSWORD"]
    db.refresh(instance)
    assert load_credentials(instance)["admin_password"] == password
