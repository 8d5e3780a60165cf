"""Coolify provisioning cost (issues: Coolify backend; under the real API's limits): API calls and wall time.

Against the fake Coolify of the tests (tests/support/coolify_fake.py, which checks every request against
Coolify's OpenAPI spec and code rules) with 50 ms of latency added to every call, deployments that take 60 s, the
application healthy 30 s after its deployment, the compose file loaded 5 s after the application is created and
Coolify's default rate limit (200 calls a minute per token, 429 beyond). The portal polls as configured by
default (from 2 s, half as long again each time, up to 15 s) and keeps to its budget of 180 calls a minute.

Prints: calls and wall time of one provision with 5 and with 50 variables (target: at most 25, the same for
both); then 20 provisions at once, as 20 consumer threads would run them: total calls, peak calls in any minute
(target: at most the budget), 429 answers (target: 0) and total time. Then the seed server's way of setting
variables (one call each), as the baseline for the variable count.

Run: .venv/bin/python bench/provision_coolify.py   (about 8 minutes; BENCH_DEPLOY_SECONDS etc. to shorten)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
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
    }
)
DEPLOY_SECONDS = float(os.environ.get("BENCH_DEPLOY_SECONDS", "60"))
HEALTH_SECONDS = float(os.environ.get("BENCH_HEALTH_SECONDS", "30"))
COMPOSE_LOAD_SECONDS = float(os.environ.get("BENCH_COMPOSE_LOAD_SECONDS", "5"))
CROWD = int(os.environ.get("BENCH_CROWD", "20"))
RATE_LIMIT = 200  # Coolify's default API_RATE_LIMIT

from sqlmodel import Session, SQLModel

from services.config import get_settings, reset_settings_cache
from services.db import get_engine
from services.models import AppTemplate, Instance
from services.provisioning import actions, engine
from services.provisioning.coolify.client import CoolifyClient
from tests.support.coolify_fake import running_fake
from tests.support.factories import customer_instance

LATENCY = 0.05


def prepare(session: Session, name: str, strategy: str, variables: int) -> int:
    """A customer whose instance is on the Coolify template with `variables` environment variables; its id."""
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
    return int(instance.id)  # type: ignore[arg-type]


def provision(instance_id: int) -> str:
    """What the consumer does: the action, run until it ends (a retry is run when it is due, as huey would)."""
    with Session(get_engine()) as session:
        instance = session.get(Instance, instance_id)
        assert instance is not None
        row = engine.request_action(session, instance, actions.PROVISION)
        session.commit()
        action_id = row.id
    status = engine.execute(action_id)
    while status == "retrying":
        time.sleep(1)
        status = engine.execute(action_id)
    if status != "succeeded":
        raise SystemExit(f"provision of instance {instance_id} ended {status}")
    with Session(get_engine()) as session:
        return str(session.get(Instance, instance_id).external_id)  # type: ignore[union-attr]


def main() -> None:
    SQLModel.metadata.create_all(get_engine())
    engine.set_scheduler(lambda _id, _delay: None)
    knobs = {
        "latency": LATENCY,
        "deploy_seconds": DEPLOY_SECONDS,
        "health_delay": HEALTH_SECONDS,
        "compose_load_seconds": COMPOSE_LOAD_SECONDS,
        "rate_limit": RATE_LIMIT,
    }
    with running_fake(**knobs) as (fake, url), Session(get_engine()) as session:
        os.environ.update({"COOLIFY_URL": url, "COOLIFY_TOKEN": fake.token})
        reset_settings_cache()
        budget = get_settings().coolify_requests_per_minute
        print(
            f"configuration: fake Coolify with {LATENCY * 1000:.0f} ms per call, deployments take "
            f"{DEPLOY_SECONDS:.0f} s, healthy {HEALTH_SECONDS:.0f} s later, rate limit {RATE_LIMIT}/min, "
            f"portal budget {budget}/min"
        )
        counts = []
        for variables in (5, 50):
            instance_id = prepare(session, f"single{variables}", "compose_domains", variables)
            before, started = len(fake.requests), time.perf_counter()
            app = provision(instance_id)
            elapsed = time.perf_counter() - started
            counts.append(len(fake.requests) - before)
            sent = len(fake.apps[app]["_envs"])  # includes CUSTOM_DOMAIN and TRAEFIK_LABELS the backend adds
            print(f"calls per provision with {variables} variables: {counts[-1]} calls ({sent} variables stored)")
            print(f"provision with {variables} variables wall time: {elapsed:.1f} s")

        crowd = [prepare(session, f"crowd{n}", "compose_domains", 5) for n in range(CROWD)]
        fake.call_times.clear()
        before, throttled, started = len(fake.requests), fake.throttled, time.perf_counter()
        threads = [threading.Thread(target=provision, args=(instance_id,)) for instance_id in crowd]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        running = sum(1 for a in fake.apps.values() if a["status"] == "running:healthy" and a["name"])
        print(f"{CROWD} provisions at once: total calls: {len(fake.requests) - before} calls")
        print(f"{CROWD} provisions at once: peak calls per minute: {fake.peak_calls_per_window()} calls")
        print(f"{CROWD} provisions at once: 429 answers: {fake.throttled - throttled} calls")
        print(f"{CROWD} provisions at once: total time: {elapsed:.1f} s")
        print(f"{CROWD} provisions at once: running afterwards: {running - 2} instances")

        fake.rate_limit = 0  # the baseline measures the call count, not the wait for the rate limit
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
