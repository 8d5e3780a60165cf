"""Coolify provisioning cost (issue: Coolify backend): API calls and wall time for one provision.

Against the fake Coolify of the tests (tests/coolify_fake.py, which checks every request against Coolify's
OpenAPI spec and code rules) with 50 ms of latency added to every call. One provision with 5 and one with 50
environment variables, for both domain strategies; then the seed server's way (one call per variable) for the
same variables, as the baseline. Target: at most 12 calls, the same for 5 and 50 variables.

Run: .venv/bin/python bench/provision_coolify.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RUN_DIR = Path(tempfile.mkdtemp(prefix="portal-bench-coolify-"))
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "VAR_DIR": str(RUN_DIR),
        "DATABASE_URL": f"sqlite:///{RUN_DIR / 'b.db'}",
        "JOBS_IMMEDIATE": "true",
        "PROXY_BACKEND": "none",
        "SECRET_KEY": "bench-" + "x" * 40,
        "COOLIFY_PROJECT_UUID": "proj-1",
        "COOLIFY_SERVER_UUID": "srv-1",
        "COOLIFY_PRIVATE_KEY_UUID": "key-1",
        "COOLIFY_POLL_SECONDS": "0.6",
    }
)

from sqlmodel import Session, SQLModel

from services.config import reset_settings_cache
from services.db import get_engine
from services.models import AppTemplate
from services.provisioning import actions, engine
from services.provisioning.coolify.client import CoolifyClient
from tests.support.coolify_fake import running_fake
from tests.support.factories import customer_instance

LATENCY = 0.05


def provision(session: Session, name: str, strategy: str, variables: int) -> str:
    instance = customer_instance(session, name)
    template = session.get(AppTemplate, instance.app_template_id)
    assert template is not None
    template.backend = "coolify"
    template.settings = {
        **template.settings,
        "git_repository": "git@github.com:acme/llm-app.git",
        "domain_strategy": strategy,
        "compose_service": "app",
    }
    # the test template renders 6 variables: keep the first `variables` lines, add more up to the wanted count
    lines = template.env_template.splitlines()[:variables]
    template.env_template = "\n".join(lines + [f"EXTRA_{n}=value-{n}" for n in range(variables - len(lines))]) + "\n"
    session.add(template)
    session.commit()
    row = engine.request_action(session, instance, actions.PROVISION)
    session.commit()
    status = engine.execute(row.id)
    if status != "succeeded":
        raise SystemExit(f"provision of {name} ended {status}")
    session.refresh(instance)
    return str(instance.external_id)


def main() -> None:
    SQLModel.metadata.create_all(get_engine())
    engine.set_scheduler(lambda _id, _delay: None)
    with running_fake(latency=LATENCY, deploy_seconds=0.5) as (fake, url), Session(get_engine()) as session:
        os.environ.update({"COOLIFY_URL": url, "COOLIFY_TOKEN": fake.token})
        reset_settings_cache()
        print(f"configuration: fake Coolify with {LATENCY * 1000:.0f} ms per call, deployments take 0.5 s")
        for strategy in ("compose_domains", "build_script"):
            for variables in (5, 50):
                before, started = len(fake.requests), time.perf_counter()
                app = provision(session, f"{strategy[:5]}{variables}", strategy, variables)
                elapsed = time.perf_counter() - started
                sent = len(fake.apps[app]["_envs"])  # includes CUSTOM_DOMAIN and TRAEFIK_LABELS the backend adds
                print(
                    f"{strategy} with {variables} variables: {len(fake.requests) - before} calls "
                    f"({sent} variables stored)"
                )
                print(f"{strategy} with {variables} variables wall time: {elapsed:.2f} s")
        client = CoolifyClient(url, fake.token)
        app_uuid = next(iter(fake.apps))
        for variables in (5, 50):
            before, started = client.calls, time.perf_counter()
            for n in range(variables):
                client.request(
                    "POST", f"/applications/{app_uuid}/envs", json={"key": f"SEED_{variables}_{n}", "value": "v"}
                )
            print(
                f"baseline one call per variable, {variables} variables: {client.calls - before} calls "
                f"({time.perf_counter() - started:.2f} s)"
            )


if __name__ == "__main__":
    main()
