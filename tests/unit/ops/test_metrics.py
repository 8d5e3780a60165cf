"""/metrics: every process's counters added up, levels read from the database, guarded by a token; every
request gets a request id and a latency observation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session
from starlette.testclient import TestClient

from services.models import ProvisioningAction, StripeEvent
from services.ops import metrics
from tests.support.billing import production_app
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance


@pytest.fixture()
def client(db: Session, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    return TestClient(production_app(monkeypatch, []))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_show_levels_from_the_database_and_counts_from_requests(db: Session, client: TestClient) -> None:
    instance = customer_instance(db, "counted")
    instance.status = "running"
    db.add(instance)
    db.add(ProvisioningAction(id="a-parked", instance_id=instance.id, action="provision", status="parked"))  # type: ignore[arg-type]
    db.add(StripeEvent(stripe_id="evt_waiting", type="invoice.paid", payload={}, status="pending"))
    db.commit()
    before = _samples(client.get("/metrics").text)
    rejected = (("outcome", "rejected"),)
    assert (
        client.post("/api/stripe/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=x"}).status_code == 400
    )

    response = client.get("/metrics")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)
    assert (
        after[("portal_webhook_deliveries_total", rejected)]
        == before.get(("portal_webhook_deliveries_total", rejected), 0) + 1
    )
    assert after[("portal_parked_actions", ())] == 1
    assert after[("portal_webhook_backlog", ())] == 1
    assert after[("portal_instances", (("status", "running"),))] == 1
    assert ("portal_job_queue_depth", ()) in after
    webhook_400 = (("method", "POST"), ("route", "webhook"), ("status", "4xx"))
    assert after[("portal_http_request_duration_seconds_count", webhook_400)] >= 1


def test_metrics_need_the_token_when_one_is_set_and_are_hidden_in_production_without(
    client: TestClient, settings_env: SettingsEnv
) -> None:
    settings_env.setenv("METRICS_TOKEN", "scrape-me-0123456789")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}).status_code == 200
    settings_env.setenv("METRICS_TOKEN", "")
    settings_env.setenv("ENVIRONMENT", "production")
    assert client.get("/metrics").status_code == 404


def test_every_response_carries_a_request_id_and_a_bad_one_is_replaced(client: TestClient) -> None:
    offered = "req-0123456789abcdef"
    assert client.get("/api/health", headers={"X-Request-ID": offered}).headers["x-request-id"] == offered
    replaced = client.get("/api/health", headers={"X-Request-ID": "bad id\r\nX-Evil: 1"}).headers["x-request-id"]
    assert replaced != offered and len(replaced) == 32 and "\n" not in replaced
    assert len(client.get("/api/health").headers["x-request-id"]) == 32


def test_route_groups_never_carry_an_id() -> None:
    assert metrics.route_group("/api/brand-assets/7-logo.png") == "brand_assets"
    assert metrics.route_group("/api/v1/usage") == "api"
    assert metrics.route_group("/dashboard/anything/123") == "other"


COUNT_IN_A_PROCESS = """
from services.ops import metrics
for _ in range(3):
    metrics.WEBHOOK_DELIVERIES.labels("new").inc()
metrics.STEP_SECONDS.labels("provision", "deploy", "succeeded").observe(0.2)
"""


def test_counts_from_several_processes_add_up_in_one_scrape(db: Session, tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two processes (two web workers, or a web worker and a consumer)
        subprocess.run([sys.executable, "-c", COUNT_IN_A_PROCESS], env=env, check=True, timeout=60)
    scrape = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from services.ops import metrics; sys.stdout.write(metrics.render().decode())",
        ],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    samples = _samples(scrape)
    assert samples[("portal_webhook_deliveries_total", (("outcome", "new"),))] == 6
    step = (("action", "provision"), ("outcome", "succeeded"), ("step", "deploy"))
    assert samples[("portal_provisioning_step_duration_seconds_count", step)] == 2
