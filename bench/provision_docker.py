"""Provisioning on a real Docker engine behind nginx (issue: provisioning engine and Docker backend).

(a) median over 10 of: POST a signed checkout.session.completed for a new customer -> first 200 from the
    instance through nginx (Host: <subdomain>.localhost), cold (nothing prepared, PROVISION_PREWARM=false) and
    warm (the checkout page was open long enough for the portal to prepare the instance,
    services/provisioning/prewarm.py, as a person filling in a card form would);
(b) median over 10 of: a bare `docker run` of the same image -> first 200 from it;
then both ratios to (b); and 20 customers paying at once: total time until all answer through the proxy, against
20 bare `docker run`s started at once (same image, same run), and /api/health p99 meanwhile.

Needs root, dockerd, nginx and busybox-static. REDIS_URL=... runs the job queue on Redis (blocking pop).
Run: .venv/bin/python bench/provision_docker.py
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import free_port, median, percentile, portal_env, running_portal, temp_var

VAR = temp_var()
PROXY_PORT = free_port()
PORT = free_port()
SETTINGS = dict(
    DATABASE_URL=f"sqlite:///{VAR / 'portal.db'}",
    VAR_DIR=str(VAR),
    PROXY_BACKEND="nginx",
    PROXY_LISTEN=f"127.0.0.1:{PROXY_PORT}",
    NGINX_DIR=str(Path("/tmp") / f"pnx-bench-{PORT}"),
    INSTANCE_SCHEME="http",
    PORT=str(PORT),
    PUBLIC_URL=f"http://localhost:{PORT}",
    STRIPE_WEBHOOK_SECRET="whsec_bench_provision",
    PROVISION_RETRY_BASE_SECONDS="0.5",
    DEMO_APP_IMAGE="portal-test/app:latest",
)
os.environ.update(SETTINGS)  # this process writes customers into the same database the portal serves
if os.environ.get("REDIS_URL"):  # and queues into the same job queue as the portal's consumer (bench/_support.py)
    os.environ.setdefault("JOBS_QUEUE_NAME", "portal-bench")

import httpx
import stripe

importlib.import_module("services.worker")  # connects the engine to the queue: the prepare action is queued
from services.provisioning.demo_image import build
from tests.support.docker_env import TEST_IMAGE, Dockerd

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
CROWD = int(os.environ.get("BENCH_CROWD", "20"))


def new_customer(username: str) -> str:
    """Sign up on the paid plan and record Stripe's side (test mode); returns the signed webhook payload."""
    from services.accounts import service
    from services.billing import local
    from services.billing.enrolment import enrol
    from services.db import session_scope
    from services.models import Subscription

    with session_scope() as session:
        result = service.signup(
            session, email=f"{username}@example.com", username=username, password="bench password 123"
        )
        enrolment = enrol(session, organization_id=result.organization_id, email=result.email, plan_slug="starter")
        checkout_id = session.get(Subscription, enrolment.subscription_id).checkout_session_id  # type: ignore[union-attr]
    with session_scope() as session:
        checkout = local._get(session, checkout_id)  # type: ignore[arg-type]
        assert checkout is not None
        sub_id = local._new_id("sub")
        subscription = {
            "id": sub_id,
            "object": "subscription",
            "customer": f"cus_{username}",
            "status": "active",
            "metadata": checkout["subscription_data"]["metadata"],
            "cancel_at_period_end": False,
            "items": {
                "data": [
                    {
                        "id": local._new_id("si"),
                        "price": {"id": checkout["price"]},
                        "current_period_end": int(time.time()) + 30 * 86400,
                    }
                ]
            },
        }
        checkout.update(status="complete", customer=f"cus_{username}", subscription=sub_id)
        local._put(session, checkout_id, "checkout.session", checkout)  # type: ignore[arg-type]
        local._put(session, sub_id, "subscription", subscription)
    return json.dumps(local.event("checkout.session.completed", checkout))


# One client for the whole run: building an httpx client per request costs ~35 ms (CA bundle), which would be
# measured as if it were the portal's or Docker's time.
HTTP = httpx.Client(timeout=10)


def wait_for_200(url: str, host: str | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Host": host} if host else {}
    while time.monotonic() < deadline:
        try:
            if HTTP.get(url, headers=headers, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"no 200 from {url} ({host}) within {timeout}s")


def post_event(portal: str, payload: str) -> None:
    header = stripe.WebhookSignature.generate_signature_header(payload, SETTINGS["STRIPE_WEBHOOK_SECRET"])
    response = HTTP.post(
        portal + "/api/stripe/webhook",
        content=payload.encode(),
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    response.raise_for_status()


def checkout_prepared(username: str, timeout: float = 20) -> float:
    """The customer is on the checkout page: wait (as a person paying would) until the portal has prepared the
    instance. Returns how long the preparation took from the signup."""
    from sqlmodel import select

    from services.db import session_scope
    from services.models import Instance, ProvisioningAction

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        with session_scope() as session:
            instance = session.exec(select(Instance).where(Instance.subdomain == username)).one()
            prepare = session.exec(
                select(ProvisioningAction).where(
                    ProvisioningAction.instance_id == instance.id, ProvisioningAction.action == "prepare"
                )
            ).first()
            if prepare is None or prepare.status in ("succeeded", "cancelled", "parked"):
                return time.perf_counter() - started
        time.sleep(0.05)
    return time.perf_counter() - started


PREPARED: list[float] = []
WALL: dict[str, tuple[float, float]] = {}  # username -> (webhook posted, first 200), wall clock


def through_portal(portal: str, username: str) -> float:
    payload = new_customer(username)
    PREPARED.append(checkout_prepared(username))
    started, posted = time.perf_counter(), time.time()
    post_event(portal, payload)
    wait_for_200(f"http://127.0.0.1:{PROXY_PORT}/health", host=f"{username}.localhost")
    WALL[username] = (posted, time.time())
    return time.perf_counter() - started


def stage_breakdown(usernames: list[str]) -> dict[str, list[float]]:
    """Where the time goes, from the portal's own records: event stored -> action queued -> each step."""
    from sqlmodel import select

    from services.db import session_scope
    from services.models import Instance, ProvisioningAction, ProvisioningStep, StripeEvent

    stages: dict[str, list[float]] = {}
    with session_scope() as session:
        for username in usernames:
            instance = session.exec(select(Instance).where(Instance.subdomain == username)).one()
            action = session.exec(
                select(ProvisioningAction).where(
                    ProvisioningAction.instance_id == instance.id, ProvisioningAction.action == "provision"
                )
            ).one()
            event = session.exec(
                select(StripeEvent)
                .where(StripeEvent.type == "checkout.session.completed", StripeEvent.processed_at.is_not(None))  # type: ignore[union-attr]
                .order_by(StripeEvent.id)
            ).all()
            steps = session.exec(
                select(ProvisioningStep).where(ProvisioningStep.action_id == action.id).order_by(ProvisioningStep.id)
            ).all()
            mine = next(e for e in event if username in str(e.payload))
            posted, answered = WALL[username]
            stages.setdefault("stage webhook posted to event stored", []).append(mine.received_at.timestamp() - posted)
            publish = next(s for s in steps if s.step == "publish_proxy")
            stages.setdefault("stage vhost published to first 200 via nginx", []).append(
                answered - publish.finished_at.timestamp()
            )  # type: ignore[union-attr]
            stages.setdefault("stage event stored to action queued", []).append(
                (action.created_at - mine.received_at).total_seconds()
            )
            stages.setdefault("stage action queued to first step", []).append(
                (steps[0].started_at - action.created_at).total_seconds()
            )
            for step in steps:
                if step.finished_at:
                    stages.setdefault(f"stage {step.step}", []).append(
                        (step.finished_at - step.started_at).total_seconds()
                    )
    return stages


def bare_docker_run(client, n: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    container = client.containers.run(
        TEST_IMAGE, detach=True, init=True, name=f"bare-{n}", network="bare", ports={"8080/tcp": ("127.0.0.1", None)}
    )
    container.reload()
    port = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
    wait_for_200(f"http://127.0.0.1:{port}/health")
    elapsed = time.perf_counter() - started
    container.remove(force=True)
    return elapsed


SAMPLER = """
import json, sys, time, httpx
url, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
samples = []
with httpx.Client(timeout=10) as client:
    while True:
        started = time.perf_counter()
        client.get(url)
        samples.append(time.perf_counter() - started)
        try:
            open(stop).close()
            break
        except FileNotFoundError:
            time.sleep(0.05)
open(out, "w").write(json.dumps(samples))
"""


class HealthSampler:
    """/api/health asked every 50 ms by a process of its own: in a thread of the bench, the bench's own work
    (its polling of twenty hosts, its collections) landed in the figure as spikes the portal never caused."""

    def __init__(self, url: str) -> None:
        self.out, self.stop_file = VAR / "health.json", VAR / "health.stop"
        self.process = subprocess.Popen([sys.executable, "-c", SAMPLER, url, str(self.out), str(self.stop_file)])

    def stop(self) -> list[float]:
        self.stop_file.touch()
        self.process.wait(timeout=30)
        return list(json.loads(self.out.read_text()))


def prewarm(on: bool) -> None:
    """Preparation is requested where the customer signs up: in this process (new_customer), so the bench can
    switch it per phase without restarting the portal."""
    from services.config import reset_settings_cache

    os.environ["PROVISION_PREWARM"] = "true" if on else "false"
    reset_settings_cache()


def bare_crowd_seconds(client, count: int) -> float:  # type: ignore[no-untyped-def]
    """`count` bare `docker run`s started at once: until every one answers."""
    results: list[float] = []
    started = time.perf_counter()
    threads = [
        threading.Thread(target=lambda n=n: results.append(bare_docker_run(client, 1000 + n))) for n in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == count
    return time.perf_counter() - started


def main() -> None:
    dockerd = Dockerd()
    dockerd.start()
    try:
        client = dockerd.client()
        build(client, TEST_IMAGE)
        env = portal_env(VAR, PORT, DOCKER_HOST=dockerd.host, **SETTINGS)
        os.environ["DOCKER_HOST"] = dockerd.host
        from services import seed

        with running_portal(env) as portal:
            seed.run()
            through_portal(portal, "warmup")  # first run pays imports and the first nginx start
            prewarm(False)  # cold: nothing prepared while the customer is on the checkout page
            cold = [through_portal(portal, f"cold{n}") for n in range(ROUNDS)]
            prewarm(True)  # warm: the checkout page is open long enough for the preparation
            PREPARED.clear()
            ours = [through_portal(portal, f"bench{n}") for n in range(ROUNDS)]
            client.networks.create("bare", driver="bridge")  # our dockerd runs without the default bridge
            bare = [bare_docker_run(client, n) for n in range(ROUNDS)]
            print(
                f"configuration: job queue {'redis' if os.environ.get('REDIS_URL') else 'sqlite'}, "
                f"nginx on 127.0.0.1:{PROXY_PORT}"
            )
            print(f"payment to first 200 via nginx cold median: {median(cold) * 1000:.0f} ms")
            print(f"payment to first 200 via nginx warm median: {median(ours) * 1000:.0f} ms")
            print(f"bare docker run to first 200 median: {median(bare) * 1000:.0f} ms")
            print(f"ratio cold to bare: {median(cold) / median(bare):.2f}")
            print(f"ratio warm to bare: {median(ours) / median(bare):.2f}")
            print(f"preparation while on the checkout page median: {median(PREPARED) * 1000:.0f} ms")
            for phase, names in (
                ("warm", [f"bench{n}" for n in range(ROUNDS)]),
                ("cold", [f"cold{n}" for n in range(ROUNDS)]),
            ):
                for stage, values in stage_breakdown(names).items():
                    print(f"{phase} {stage} median: {median(values) * 1000:.0f} ms")

            prewarm(False)  # a crowd pays at once, as soon as it has signed up
            payloads = [new_customer(f"crowd{n}") for n in range(CROWD)]
            sampler = HealthSampler(portal + "/api/health")
            started = time.perf_counter()
            for payload in payloads:
                post_event(portal, payload)
            for n in range(CROWD):
                wait_for_200(f"http://127.0.0.1:{PROXY_PORT}/health", host=f"crowd{n}.localhost", timeout=300)
            total = time.perf_counter() - started
            health = sampler.stop()
            bare_crowd = bare_crowd_seconds(client, CROWD)
            print(f"{CROWD} instances at once, all running: {total:.1f} s")
            print(f"{CROWD} bare docker runs at once, all answering: {bare_crowd:.1f} s")
            print(f"ratio crowd to bare crowd: {total / bare_crowd:.2f}")
            print(f"health p99 during it: {percentile(health, 99) * 1000:.0f} ms ({len(health)} calls)")
        from services.provisioning.proxy.nginx import NginxProxy

        NginxProxy().stop()
    finally:
        dockerd.cleanup()


if __name__ == "__main__":
    main()
