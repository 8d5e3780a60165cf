"""The provisioning engine on a real Docker engine behind a real nginx."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session, func, select

from services.models import Instance, Plan, ProvisioningAction, ProvisioningStep, Subscription
from services.provisioning import actions, engine
from services.provisioning.credentials import reveal_once
from services.provisioning.labels import LABEL_INSTANCE
from services.provisioning.proxy import Route
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance
from tests.support.mailbox import outbox_messages, text_of
from tests.support.provisioning import Provisioning


def _request(db: Session, instance: Instance, action: str) -> str:
    row = engine.request_action(db, instance, action, requested_by="test")
    db.commit()
    return row.id


def _via_nginx(p: Provisioning, subdomain: str, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{p.proxy_port}{path}", headers={"Host": f"{subdomain}.localhost"}, timeout=5)


def _container(p: Provisioning, subdomain: str):  # type: ignore[no-untyped-def]
    client = p.dockerd.client()
    try:
        return client.containers.get(f"portal-{subdomain}")
    finally:
        client.close()


def _prepared(p: Provisioning, db: Session, subdomain: str) -> Instance:
    """A paid signup whose checkout is open: the instance is prepared (created, started and frozen, or only
    created with PROVISION_PREWARM_START=false) before payment."""
    from services.provisioning.prewarm import prepare_for_checkout

    instance = customer_instance(db, subdomain)
    instance.status = "awaiting_payment"
    db.add(instance)
    db.commit()
    assert prepare_for_checkout(db, instance)
    db.commit()
    assert p.run(p.scheduled.calls[-1][0]) == "succeeded"
    db.refresh(instance)
    return instance


def test_provision_serves_the_instance_through_nginx_with_env_and_limits(
    provisioning: Provisioning, db: Session, outbox
) -> None:  # type: ignore[no-untyped-def]
    instance = customer_instance(db, "acme1")
    action_id = _request(db, instance, actions.PROVISION)
    assert provisioning.run(action_id) == "succeeded"

    db.refresh(instance)
    assert instance.status == "running" and instance.desired_state == "running"
    assert _via_nginx(provisioning, "acme1", "/health").status_code == 200
    env = _via_nginx(provisioning, "acme1", "/cgi-bin/env").text
    assert "ADMIN_EMAIL=acme1@example.com" in env
    assert "CUSTOM_DOMAIN=acme1.localhost" in env
    assert "INSTANCE_MAX_REQUESTS_PER_MINUTE=60" in env
    assert 'PREDEFINED_ENDPOINTS=[{"name": "default", "url": "https://llm.example.com"}]' in env

    attrs = _container(provisioning, "acme1").attrs
    assert attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert attrs["HostConfig"]["CpuQuota"] == 50_000
    assert attrs["HostConfig"]["Init"] is True
    assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    labels = attrs["Config"]["Labels"]
    assert labels[LABEL_INSTANCE] == str(instance.id)
    assert labels["traefik.docker.network"] == "portal-acme1-net"
    assert labels["traefik.http.routers.portal-acme1-https.rule"] == "Host(`acme1.localhost`)"
    assert "portal-acme1-net" in attrs["NetworkSettings"]["Networks"]
    assert any(m["Name"] == "portal-acme1-data" for m in attrs["Mounts"])

    # The generated password reached the instance, is stored only encrypted and shown once on the dashboard; the
    # welcome e-mail says where the instance is and where its login is, never the password itself.
    password = next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("ADMIN_PASSWORD="))
    assert password and password not in (instance.credentials_encrypted or "")
    welcome = [m for m in outbox_messages(outbox) if "ready" in m["Subject"]]
    assert len(welcome) == 1 and password not in str(welcome[0]) and "http://acme1.localhost" in text_of(welcome[0])
    db.refresh(instance)
    assert (reveal_once(db, instance) or {}).get("admin_password") == password

    # Running the same action again changes nothing and duplicates nothing.
    assert engine.execute(action_id) == "succeeded"
    second = _request(db, instance, actions.PROVISION)
    assert provisioning.run(second) == "succeeded"
    client = provisioning.dockerd.client()
    assert len(client.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={instance.id}"})) == 1
    client.close()
    assert len([m for m in outbox_messages(outbox) if "ready" in m["Subject"]]) == 1


def test_lifecycle_restart_stop_start_limits_deprovision(provisioning: Provisioning, db: Session) -> None:
    instance = customer_instance(db, "life")
    assert provisioning.run(_request(db, instance, actions.PROVISION)) == "succeeded"
    started_at = _container(provisioning, "life").attrs["State"]["StartedAt"]

    assert provisioning.run(_request(db, instance, actions.RESTART)) == "succeeded"
    assert _container(provisioning, "life").attrs["State"]["StartedAt"] != started_at
    assert _via_nginx(provisioning, "life", "/health").status_code == 200  # vhost follows a new host port

    assert provisioning.run(_request(db, instance, actions.STOP)) == "succeeded"
    db.refresh(instance)
    assert instance.status == "stopped" and instance.desired_state == "stopped"
    assert _container(provisioning, "life").status == "exited"

    assert provisioning.run(_request(db, instance, actions.START)) == "succeeded"
    assert _container(provisioning, "life").status == "running"
    assert _via_nginx(provisioning, "life", "/health").status_code == 200

    subscription = db.get(Subscription, instance.subscription_id)
    plan = db.get(Plan, subscription.plan_id)  # type: ignore[union-attr]
    plan.limits = {**plan.limits, "memory_mb": 96, "max_requests_per_minute": 240}  # type: ignore[union-attr]
    db.add(plan)
    db.commit()
    assert provisioning.run(_request(db, instance, actions.APPLY_LIMITS)) == "succeeded"
    assert _container(provisioning, "life").attrs["HostConfig"]["Memory"] == 96 * 1024 * 1024
    assert "INSTANCE_MAX_REQUESTS_PER_MINUTE=240" in _via_nginx(provisioning, "life", "/cgi-bin/env").text

    assert provisioning.run(_request(db, instance, actions.DEPROVISION)) == "succeeded"
    client = provisioning.dockerd.client()
    assert client.containers.list(all=True) == []
    assert [n.name for n in client.networks.list(names=["portal-life-net"])] == []
    assert [v.name for v in client.volumes.list() if v.name == "portal-life-data"] == []
    client.close()
    assert not (provisioning.proxy.vhost_dir / "life.conf").exists()
    assert _via_nginx(provisioning, "life", "/health").status_code == 404
    db.refresh(instance)
    assert instance.status == "deprovisioned"


def test_dockerd_killed_mid_provision_then_restarted_finishes_by_retry(
    provisioning: Provisioning, db: Session, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from services.provisioning import steps

    instance = customer_instance(db, "crash")
    original_deploy = steps.STEP_FUNCTIONS["deploy"]
    calls = {"n": 0}

    def deploy_with_engine_crash(ctx: steps.StepContext) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            provisioning.dockerd.kill()
        original_deploy(ctx)

    monkeypatch.setitem(steps.STEP_FUNCTIONS, "deploy", deploy_with_engine_crash)
    action_id = _request(db, instance, actions.PROVISION)
    assert engine.execute(action_id) == "retrying"
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    assert row is not None and "not reachable" in (row.last_error or "")
    assert provisioning.scheduled.calls[-1] == (action_id, 0.1)  # backoff scheduled

    provisioning.dockerd.start()
    assert provisioning.run(action_id) == "succeeded"
    client = provisioning.dockerd.client()
    assert len(client.containers.list(all=True)) == 1
    client.close()
    attempts = db.exec(
        select(ProvisioningStep.step, ProvisioningStep.attempt, ProvisioningStep.status).where(
            ProvisioningStep.action_id == action_id
        )
    ).all()
    assert ("deploy", 1, "failed") in attempts and ("deploy", 2, "succeeded") in attempts
    assert ("prepare_backend", 1, "succeeded") in attempts and ("prepare_backend", 2, "succeeded") not in attempts


def test_missing_image_parks_with_a_clear_error_then_admin_retry_succeeds(
    provisioning: Provisioning, db: Session
) -> None:
    from services.models import AppTemplate

    instance = customer_instance(db, "noimage", image="portal-test/does-not-exist:1")
    action_id = _request(db, instance, actions.PROVISION)
    assert provisioning.run(action_id) == "parked"
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    db.refresh(instance)
    assert row is not None and "does not exist" in (row.last_error or "") and row.failures == 1
    assert instance.status == "error" and "does not exist" in (instance.last_error or "")
    client = provisioning.dockerd.client()
    assert client.containers.list(all=True) == []
    client.close()

    template = db.get(AppTemplate, instance.app_template_id)
    template.image = "portal-test/app:latest"  # type: ignore[union-attr]
    db.add(template)
    engine.retry_parked(db, action_id, requested_by="admin@example.com")
    db.commit()
    assert provisioning.run(action_id) == "succeeded"
    assert _via_nginx(provisioning, "noimage", "/health").status_code == 200


@pytest.mark.parametrize("what", ["network", "volume"])
def test_a_foreign_network_or_volume_with_the_name_is_refused_and_left_alone(
    provisioning: Provisioning, db: Session, what: str
) -> None:
    """Each is made in one call: a network that exists answers 409, a volume that exists is returned as it is;
    both are checked for ownership on that answer, and someone else's is never used."""
    client = provisioning.dockerd.client()
    if what == "network":
        client.networks.create("portal-squat-net", driver="bridge", labels={"someone": "else"})
    else:
        client.volumes.create("portal-squat-data", labels={"someone": "else"})
    instance = customer_instance(db, "squat")
    action_id = _request(db, instance, actions.PROVISION)
    assert provisioning.run(action_id) == "parked"
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    assert f"A Docker {what} named" in (row.last_error or "") and "does not belong" in (row.last_error or "")  # type: ignore[union-attr]
    assert client.containers.list(all=True, filters={"name": "portal-squat"}) == []
    if what == "network":
        assert client.networks.get("portal-squat-net").attrs["Labels"] == {"someone": "else"}
    else:
        assert client.volumes.get("portal-squat-data").attrs["Labels"] == {"someone": "else"}
    client.close()


def test_a_foreign_container_with_the_name_is_refused_and_left_alone(provisioning: Provisioning, db: Session) -> None:
    client = provisioning.dockerd.client()
    foreign = client.containers.create("portal-test/app:latest", name="portal-taken")
    instance = customer_instance(db, "taken")
    action_id = _request(db, instance, actions.PROVISION)
    assert provisioning.run(action_id) == "parked"
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    assert "already exists and does not belong" in (row.last_error or "")  # type: ignore[union-attr]
    assert client.networks.list(names=["portal-taken-net"]) == []  # nothing half-created
    foreign.reload()
    assert foreign.name == "portal-taken"  # untouched

    foreign.remove(force=True)
    engine.retry_parked(db, action_id, requested_by="admin")
    db.commit()
    assert provisioning.run(action_id) == "succeeded"
    client.close()


def test_engine_down_gives_a_clear_retryable_error(provisioning: Provisioning, db: Session, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env.setenv("DOCKER_HOST", "unix:///tmp/no-such-docker.sock")
    settings_env.setenv("PROVISION_MAX_ATTEMPTS", "2")
    instance = customer_instance(db, "down")
    action_id = _request(db, instance, actions.PROVISION)
    assert engine.execute(action_id) == "retrying"
    assert engine.execute(action_id) == "parked"
    row = db.get(ProvisioningAction, action_id)
    db.refresh(row)
    assert "Docker engine is not reachable" in (row.last_error or "")  # type: ignore[union-attr]


def test_reconcile_repairs_a_container_removed_behind_our_back(provisioning: Provisioning, db: Session) -> None:
    from services.provisioning.reconcile import reconcile

    instance = customer_instance(db, "gone")
    assert provisioning.run(_request(db, instance, actions.PROVISION)) == "succeeded"
    _container(provisioning, "gone").remove(force=True)
    stopped = customer_instance(db, "gone-stopped")  # its name begins like the other's: told apart exactly
    assert provisioning.run(_request(db, stopped, actions.PROVISION)) == "succeeded"
    _container(provisioning, "gone-stopped").stop(timeout=2)

    findings = {f.subdomain: f for f in reconcile(db)}  # the engine's containers read in one listing
    db.commit()
    assert findings["gone"].observed == "missing" and findings["gone"].outcome == "repairing"
    assert findings["gone-stopped"].observed == "stopped" and findings["gone-stopped"].outcome == "repairing"
    start = db.exec(
        select(ProvisioningAction).where(
            ProvisioningAction.requested_by == "reconciler", ProvisioningAction.instance_id == stopped.id
        )
    ).one()
    assert start.action == actions.START and provisioning.run(start.id) == "succeeded"
    repair = db.exec(
        select(ProvisioningAction).where(
            ProvisioningAction.requested_by == "reconciler", ProvisioningAction.instance_id == instance.id
        )
    ).one()
    assert provisioning.run(repair.id) == "succeeded"
    assert _container(provisioning, "gone").status == "running"
    assert _via_nginx(provisioning, "gone", "/health").status_code == 200
    assert db.exec(select(func.count()).select_from(ProvisioningAction)).one() == 4
    assert {f.subdomain: f.outcome for f in reconcile(db)} == {"gone": "ok", "gone-stopped": "ok"}


def test_a_broken_vhost_never_replaces_a_working_one(provisioning: Provisioning, db: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from services.provisioning.errors import PermanentError

    instance = customer_instance(db, "keep")
    assert provisioning.run(_request(db, instance, actions.PROVISION)) == "succeeded"
    working = (provisioning.proxy.vhost_dir / "keep.conf").read_text()

    monkeypatch.setattr(
        type(provisioning.proxy), "render_vhost", lambda self, *a: "server { this is not nginx syntax; }\n"
    )
    try:
        provisioning.proxy.publish(Route(instance.id, "keep", ("keep.localhost",), "127.0.0.1:1"))  # type: ignore[arg-type]
    except PermanentError as exc:
        assert "nginx rejected" in str(exc)
    else:
        raise AssertionError("a broken vhost was accepted")
    assert (provisioning.proxy.vhost_dir / "keep.conf").read_text() == working
    assert _via_nginx(provisioning, "keep", "/health").status_code == 200


def test_portal_admin_proxy_sync_and_cleanup(provisioning: Provisioning, db: Session, capsys) -> None:  # type: ignore[no-untyped-def]
    from services.cli import main

    instance = customer_instance(db, "cli")
    assert provisioning.run(_request(db, instance, actions.PROVISION)) == "succeeded"
    (provisioning.proxy.vhost_dir / "cli.conf").unlink()
    assert main(["proxy"]) == 0
    assert _via_nginx(provisioning, "cli", "/health").status_code == 200

    assert main(["sync"]) == 0
    assert "cli: desired running, observed running -> ok" in capsys.readouterr().out
    assert main(["restart", "nosuch"]) == 3
    assert main(["restart", "cli", "--wait"]) == 0
    assert main(["stats"]) == 0
    assert "cli" in capsys.readouterr().out

    instance.status = "deprovisioned"  # as if a deprovision stopped half-way and left resources behind
    db.add(instance)
    db.commit()
    assert main(["cleanup"]) == 0
    # The engine is shared with other tests (the browser tests' portal runs instances on it too): look at ours.
    client = provisioning.dockerd.client()
    try:
        assert client.containers.list(all=True, filters={"label": f"{LABEL_INSTANCE}={instance.id}"}) == []
        assert client.networks.list(names=["portal-cli-net"]) == []
        assert [v for v in client.volumes.list() if v.name == "portal-cli-data"] == []
    finally:
        client.close()
    assert not (provisioning.proxy.vhost_dir / "cli.conf").exists()


def test_prepared_during_checkout_payment_starts_the_same_container_release_removes_it(
    provisioning: Provisioning, db: Session
) -> None:
    from datetime import timedelta

    from services.models.base import utcnow
    from services.provisioning.prewarm import release_abandoned

    instance = _prepared(provisioning, db, "early")
    assert instance.status == "awaiting_payment"  # nothing is served and nothing is promised before payment
    prepared = _container(provisioning, "early")
    assert prepared.status == "paused"  # booted, then frozen: payment only thaws it
    assert not (provisioning.proxy.vhost_dir / "early.conf").exists()

    assert provisioning.run(_request(db, instance, actions.PROVISION)) == "succeeded"
    assert _container(provisioning, "early").id == prepared.id  # payment only started it
    assert _via_nginx(provisioning, "early", "/health").status_code == 200

    other = _prepared(provisioning, db, "leftcart")
    other.updated_at = utcnow() - timedelta(hours=25)
    db.add(other)
    db.commit()
    assert release_abandoned(db) == 1
    db.commit()
    assert provisioning.run(provisioning.scheduled.calls[-1][0]) == "succeeded"
    client = provisioning.dockerd.client()
    try:
        assert client.containers.list(all=True, filters={"name": "portal-leftcart"}) == []
        assert client.networks.list(names=["portal-leftcart-net"]) == []
    finally:
        client.close()
    db.refresh(other)
    assert other.status == "awaiting_payment" and other.external_id is None
    assert release_abandoned(db) == 0  # released once


def test_a_host_port_taken_while_the_customer_pays_moves_the_instance_and_a_restart_keeps_its_route(
    provisioning: Provisioning, db: Session, settings_env: SettingsEnv
) -> None:
    import socket

    settings_env.setenv("PROVISION_PREWARM_START", "false")  # created, not started: its port is only reserved
    instance = _prepared(provisioning, db, "portjump")
    prepared_upstream = instance.upstream  # the port is chosen when the container is created
    assert prepared_upstream and prepared_upstream.startswith("127.0.0.1:")
    assert not (provisioning.proxy.vhost_dir / "portjump.conf").exists()  # no route before it runs

    squatter = socket.socket()  # another program took the port while the customer was paying
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", int(prepared_upstream.rsplit(":", 1)[1])))
    squatter.listen()
    try:
        assert provisioning.run(_request(db, instance, actions.PROVISION)) == "succeeded"
        db.refresh(instance)
        assert instance.upstream != prepared_upstream and instance.status == "running"
        assert _via_nginx(provisioning, "portjump", "/health").status_code == 200
        client = provisioning.dockerd.client()
        try:
            assert len(client.containers.list(all=True, filters={"name": "portal-portjump"})) == 1
        finally:
            client.close()
    finally:
        squatter.close()

    # a restart keeps the port: the route stays as it is and nginx is not reloaded
    vhost = (provisioning.proxy.vhost_dir / "portjump.conf").read_text()
    assert provisioning.run(_request(db, instance, actions.RESTART)) == "succeeded"
    assert (provisioning.proxy.vhost_dir / "portjump.conf").read_text() == vhost
    assert _via_nginx(provisioning, "portjump", "/health").status_code == 200
