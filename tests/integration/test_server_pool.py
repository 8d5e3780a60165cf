"""The server pool on three real Docker engines behind one real nginx: placement, the last slot, draining with the
data, an engine that dies, and backups restored byte for byte to a folder and to an S3 endpoint (moto's server)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from services.admin import servers as admin_servers
from services.backups.store import backup_store
from services.capacity import servers
from services.customer import backups as customer_backups
from services.models import Backup, Incident, Instance, ProvisioningAction, Server, User
from services.provisioning import actions, engine, moves
from services.provisioning.proxy.nginx import NginxProxy
from services.provisioning.watch import watch_backends
from services.tenancy.scope import resolve_actor, resolve_customer
from tests.support.docker_env import Dockerd, build_test_image, read_note, start_dockerd, unavailable, write_note
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance, platform, staff_member
from tests.support.mailbox import staff_alerts
from tests.support.provisioning import Provisioning, Scheduled
from tests.support.servers import free_port

POOLS = ("10.221.0.0/16", "10.222.0.0/16", "10.223.0.0/16")


@pytest.fixture(scope="module")
def engines() -> Iterator[list[Dockerd]]:
    """Three engines of our own, each with its own sockets, data root and subnets."""
    started: list[Dockerd] = []
    try:
        for pool in POOLS:
            daemon = start_dockerd(pool, iptables=False)
            started.append(daemon)
            client = daemon.client()
            build_test_image(client)
            client.close()
        yield started
    finally:
        for daemon in started:
            daemon.cleanup()


@pytest.fixture()
def pool(engines: list[Dockerd], db: Session, settings_env: SettingsEnv, tmp_path: Path) -> Iterator[Provisioning]:
    if shutil.which("nginx") is None:
        unavailable("nginx is not installed (apt-get install nginx)")
    for daemon in engines:
        if daemon.process is None or daemon.process.poll() is not None:
            daemon.start()
    port = free_port()
    nginx_dir = Path("/tmp") / f"pnx-{tmp_path.name[-12:]}"
    for name, value in {
        "DOCKER_HOST": engines[0].host,
        "PROXY_BACKEND": "nginx",
        "PROXY_LISTEN": f"127.0.0.1:{port}",
        "NGINX_DIR": str(nginx_dir),
        "PROVISION_RETRY_BASE_SECONDS": "0.1",
        "PROVISION_HEALTH_TIMEOUT_SECONDS": "20",
        "INSTANCE_SCHEME": "http",
        "BACKUP_DIR": str(tmp_path / "backups"),
    }.items():
        settings_env.setenv(name, value)
    for n, daemon in enumerate(engines, start=1):
        servers.add_server(db, name=f"e{n}", backend="docker", address=daemon.host, max_instances=2)
    db.commit()
    scheduled = Scheduled()
    engine.set_scheduler(scheduled)
    proxy = NginxProxy()
    try:
        yield Provisioning(dockerd=engines[0], proxy=proxy, proxy_port=port, scheduled=scheduled)
    finally:
        engine.set_scheduler(None)
        proxy.stop()
        for daemon in engines:
            _empty(daemon)
        shutil.rmtree(nginx_dir, ignore_errors=True)


def _empty(daemon: Dockerd) -> None:
    if daemon.process is None or daemon.process.poll() is not None:
        daemon.start()
    client = daemon.client()
    for container in client.containers.list(all=True):
        container.remove(force=True)
    client.networks.prune()
    for volume in client.volumes.list():
        volume.remove(force=True)
    client.close()


def _provisioned(p: Provisioning, db: Session, name: str) -> Instance:
    instance = customer_instance(db, name)
    action = engine.request_action(db, instance, actions.PROVISION, requested_by="test")
    db.commit()
    assert p.run(action.id) == "succeeded"
    db.refresh(instance)
    return instance


def _server_of(db: Session, instance: Instance) -> str:
    db.refresh(instance)
    server = db.get(Server, instance.server_id)
    assert server is not None
    return server.name


def _engine_of(engines: list[Dockerd], db: Session, instance: Instance) -> Dockerd:
    return engines[int(_server_of(db, instance)[1:]) - 1]


def _container(daemon: Dockerd, instance: Instance):  # type: ignore[no-untyped-def]
    client = daemon.client()
    try:
        return client.containers.get(f"portal-{instance.subdomain}")
    finally:
        client.close()


def _via_edge(p: Provisioning, instance: Instance, path: str) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{p.proxy_port}{path}", headers={"Host": f"{instance.subdomain}.localhost"}, timeout=5
    )


def _write_note(daemon: Dockerd, instance: Instance, data: bytes) -> None:
    write_note(_container(daemon, instance), data)


def _read_note(daemon: Dockerd, instance: Instance) -> bytes:
    return read_note(_container(daemon, instance))


def test_placement_spreads_over_the_engines_and_each_answers_through_the_edge(
    pool: Provisioning, engines: list[Dockerd], db: Session
) -> None:
    placed = [_provisioned(pool, db, f"spread{n}") for n in range(3)]
    assert sorted(_server_of(db, i) for i in placed) == ["e1", "e2", "e3"]
    for instance in placed:
        assert _container(_engine_of(engines, db, instance), instance).status == "running"
        assert _via_edge(pool, instance, "/health").status_code == 200


def test_two_signups_for_the_last_slot_place_one_and_park_the_other(
    pool: Provisioning, engines: list[Dockerd], db: Session
) -> None:
    for name in ("e1", "e2"):
        servers.drain(db, name)
    db.commit()
    _provisioned(pool, db, "first")  # e3 holds one of its two
    racers = [customer_instance(db, f"racer{n}") for n in range(2)]
    ids = [engine.request_action(db, r, actions.PROVISION, requested_by="test").id for r in racers]
    db.commit()
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda a=a: outcomes.append(pool.run(a))) for a in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["parked", "succeeded"]
    rows = [db.get(ProvisioningAction, i) for i in ids]
    for row in rows:
        db.refresh(row)
    parked = next(r for r in rows if r is not None and r.status == "parked")
    assert "No docker server has room" in (parked.last_error or "")
    assert db.exec(select(Incident).where(Incident.key == parked.id)).first() is not None  # staff are told
    e3 = servers.get_server(db, "e3")
    db.refresh(e3)
    assert e3.allocated_instances == 2
    client = engines[2].client()
    assert len(client.containers.list(all=True)) == 2  # never a third, half-made one
    client.close()


def test_draining_moves_the_instances_with_their_data(pool: Provisioning, engines: list[Dockerd], db: Session) -> None:
    for name in ("e2", "e3"):
        servers.drain(db, name)
    db.commit()
    movers = [_provisioned(pool, db, f"mover{n}") for n in range(2)]
    for instance in movers:
        assert _server_of(db, instance) == "e1"
        _write_note(engines[0], instance, f"written before the move by {instance.subdomain}\n".encode())
    servers.activate(db, "e2")
    servers.activate(db, "e3")
    db.commit()
    assert moves.drain_server(db, "e1", requested_by="test") == 2
    db.commit()
    for action_id, _ in list(pool.scheduled.calls):
        row = db.get(ProvisioningAction, action_id)
        if row is not None and row.action == actions.MIGRATE:
            assert pool.run(action_id) == "succeeded", row.last_error
    for instance in movers:
        assert _server_of(db, instance) in ("e2", "e3")
        answer = _via_edge(pool, instance, "/cgi-bin/note")
        assert answer.status_code == 200 and f"written before the move by {instance.subdomain}" in answer.text
    progress = moves.drain_progress(db, "e1")
    assert (progress.remaining, progress.moving, progress.state) == (0, 0, "draining")
    client = engines[0].client()
    assert client.containers.list(all=True) == [] and client.volumes.list() == []  # the old copies are gone
    client.close()
    servers.remove(db, "e1")
    db.commit()


def test_an_engine_that_dies_is_marked_down_alerts_and_its_instances_start_elsewhere_from_their_backups(
    pool: Provisioning, engines: list[Dockerd], db: Session, outbox: Path
) -> None:
    staff_member(db, "operator", platform(db), "owner")
    db.commit()
    operator = resolve_actor(db, db.exec(select(User).where(User.username == "operator")).one().id)  # type: ignore[arg-type]
    placed = [_provisioned(pool, db, f"alive{n}") for n in range(3)]
    victim = next(i for i in placed if _server_of(db, i) == "e3")
    _write_note(engines[2], victim, b"saved in last night's backup\n")
    before = len(pool.scheduled.calls)
    customer_backups.back_up_now(db, resolve_customer(db, _owner_id(db, victim)), victim.id)  # type: ignore[arg-type]
    db.commit()
    _run_new(pool, db, before)

    engines[2].kill()
    watch_backends(db)
    db.commit()
    e3 = servers.get_server(db, "e3")
    db.refresh(e3)
    db.refresh(victim)
    assert e3.state == "down" and victim.host_unreachable
    assert db.exec(select(Incident).where(col(Incident.title).contains("e3"))).first() is not None
    assert staff_alerts(outbox) == ["operator@example.com"]  # one e-mail for the incident, however long it lasts
    watch_backends(db)
    db.commit()
    assert staff_alerts(outbox) == ["operator@example.com"]
    for instance in placed:
        if instance.id != victim.id:
            assert _via_edge(pool, instance, "/health").status_code == 200
    newcomer = _provisioned(pool, db, "newcomer")
    assert _server_of(db, newcomer) in ("e1", "e2")  # nothing new on a down server

    before = len(pool.scheduled.calls)
    assert admin_servers.move_from_backups(db, operator, "e3") == 1  # "Start elsewhere"
    db.commit()
    for action_id, _ in pool.scheduled.calls[before:]:
        row = db.get(ProvisioningAction, action_id)
        if row is not None and row.action == actions.MIGRATE and row.status == "queued":
            assert pool.run(action_id) == "succeeded", row.last_error
    db.expire_all()
    assert _server_of(db, victim) in ("e1", "e2") and not db.get(Instance, victim.id).host_unreachable  # type: ignore[union-attr]
    answer = _via_edge(pool, victim, "/cgi-bin/note")
    assert answer.status_code == 200 and "saved in last night's backup" in answer.text

    engines[2].start()  # back: it takes new instances again, and the copy it still held is removed
    watch_backends(db)
    db.commit()
    db.refresh(e3)
    assert e3.state == "active"
    client = engines[2].client()
    assert client.containers.list(all=True) == [] and client.volumes.list() == []
    client.close()


@pytest.fixture(params=["folder", "s3"])
def store_kind(request: pytest.FixtureRequest, settings_env: SettingsEnv) -> Iterator[str]:
    if request.param == "folder":
        yield "folder"
        return
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        for name, value in {
            "BACKUP_STORE": "s3",
            "BACKUP_S3_BUCKET": "portal-backups",
            "BACKUP_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            settings_env.setenv(name, value)
        store = backup_store()
        store.client.create_bucket(Bucket="portal-backups")  # type: ignore[attr-defined]
        yield "s3"
    finally:
        server.stop()


@pytest.fixture(params=["local tar", "engine archive API"])
def archive_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Backups read and write a local engine's volume with tar; a remote engine's through its archive API. Both
    make and take the same archive (entries under data/), so each restores what the other made."""
    if request.param == "engine archive API":
        from services.provisioning.backends.docker import DockerBackend

        monkeypatch.setattr(DockerBackend, "local_volume", lambda self, spec, client=None: None)
    return str(request.param)


def _run_new(pool: Provisioning, db: Session, before: int) -> None:
    for action_id, _ in pool.scheduled.calls[before:]:
        row = db.get(ProvisioningAction, action_id)
        if row is not None and row.action in (actions.BACKUP, actions.RESTORE):
            db.refresh(row)
            if row.status not in ("succeeded", "parked"):
                assert pool.run(action_id) == "succeeded", row.last_error
    db.expire_all()  # the engine changed the instance in sessions of its own, as a web request would see it


def test_a_backup_restores_byte_for_byte_and_a_wrong_restore_can_be_undone(
    pool: Provisioning, engines: list[Dockerd], db: Session, store_kind: str, archive_path: str
) -> None:
    instance = _provisioned(pool, db, f"safe{store_kind}{len(archive_path)}")
    daemon = _engine_of(engines, db, instance)
    owner = resolve_customer(db, _owner_id(db, instance))
    original = os.urandom(3 * 1024 * 1024) + b"\n"
    _write_note(daemon, instance, original)

    before = len(pool.scheduled.calls)
    good = customer_backups.back_up_now(db, owner, instance.id)  # type: ignore[arg-type]
    db.commit()
    _run_new(pool, db, before)
    assert _container(daemon, instance).status == "running"  # paused for the copy only
    row = db.get(Backup, good)
    db.refresh(row)
    assert row.status == "complete" and row.store == store_kind and row.data_bytes > len(original)  # type: ignore[union-attr]

    _write_note(daemon, instance, b"a mistake\n")
    before = len(pool.scheduled.calls)
    mistake = customer_backups.back_up_now(db, owner, instance.id)  # type: ignore[arg-type]
    db.commit()
    _run_new(pool, db, before)

    _write_note(daemon, instance, b"today's work\n")
    before = len(pool.scheduled.calls)
    customer_backups.restore_backup(db, owner, instance.id, good)  # type: ignore[arg-type]
    db.commit()
    _run_new(pool, db, before)
    assert _read_note(daemon, instance) == original  # byte for byte
    assert _via_edge(pool, instance, "/health").status_code == 200

    before = len(pool.scheduled.calls)
    customer_backups.restore_backup(db, owner, instance.id, mistake)  # type: ignore[arg-type]  # the wrong one
    db.commit()
    _run_new(pool, db, before)
    assert _read_note(daemon, instance) == b"a mistake\n"
    safety = db.exec(
        select(Backup)
        .where(Backup.instance_id == instance.id, Backup.kind == "pre-restore")
        .order_by(col(Backup.created_at).desc())
    ).first()
    assert safety is not None and safety.status == "complete"
    before = len(pool.scheduled.calls)
    customer_backups.restore_backup(db, owner, instance.id, safety.id)  # type: ignore[arg-type]  # undo
    db.commit()
    _run_new(pool, db, before)
    assert _read_note(daemon, instance) == original


def _owner_id(db: Session, instance: Instance) -> int:
    from services.tenancy.orgs import owner_user

    owner = owner_user(db, instance.organization_id)
    assert owner is not None and owner.id is not None
    return owner.id


def test_a_changed_backup_in_the_store_is_refused_before_anything_is_replaced(
    pool: Provisioning, engines: list[Dockerd], db: Session, tmp_path: Path
) -> None:
    instance = _provisioned(pool, db, "tampered")
    daemon = _engine_of(engines, db, instance)
    owner = resolve_customer(db, _owner_id(db, instance))
    _write_note(daemon, instance, b"precious\n")
    before = len(pool.scheduled.calls)
    backup_id = customer_backups.back_up_now(db, owner, instance.id)  # type: ignore[arg-type]
    db.commit()
    _run_new(pool, db, before)
    row = db.get(Backup, backup_id)
    db.refresh(row)
    stored = tmp_path / "backups" / row.object_key  # type: ignore[union-attr]
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    before = len(pool.scheduled.calls)
    action = customer_backups.restore_backup(db, owner, instance.id, backup_id)  # type: ignore[arg-type]
    db.commit()
    assert pool.run(action) == "parked"
    assert "no longer matches" in (db.get(ProvisioningAction, action).last_error or "")  # type: ignore[union-attr]
    assert _read_note(daemon, instance) == b"precious\n"  # nothing was replaced


def test_a_backup_made_with_tar_restores_through_the_archive_api(
    pool: Provisioning, engines: list[Dockerd], db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same archive whichever way it was made: a local engine's backup restores on a remote one's path."""
    from services.provisioning.backends.docker import DockerBackend

    instance = _provisioned(pool, db, "crosspath")
    daemon = _engine_of(engines, db, instance)
    owner = resolve_customer(db, _owner_id(db, instance))
    _write_note(daemon, instance, b"made by tar\n")
    before = len(pool.scheduled.calls)
    backup_id = customer_backups.back_up_now(db, owner, instance.id)  # type: ignore[arg-type]
    db.commit()
    _run_new(pool, db, before)
    _write_note(daemon, instance, b"changed\n")
    monkeypatch.setattr(DockerBackend, "local_volume", lambda self, spec, client=None: None)
    before = len(pool.scheduled.calls)
    customer_backups.restore_backup(db, owner, instance.id, backup_id)  # type: ignore[arg-type]
    db.commit()
    _run_new(pool, db, before)
    assert _read_note(daemon, instance) == b"made by tar\n"
