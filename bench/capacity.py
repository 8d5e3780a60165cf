"""The server pool and backups (issue: capacity), in one run:

(a) placement decision p99 with 10,000 instances on 50 servers: `placement.place` (read the servers, rank, take the
    slot with the conditional UPDATE) for 1,000 new instances, each timed, on SQLite;
(b) backup throughput for a 200 MB data volume (half random, half text) on a real Docker engine: the BACKUP
    action's snapshot (paused container, the engine's tar stream, zstd level 3, the folder store with its sha256),
    as MB/s of volume data, against a bare `tar -c | zstd -3 > file` of the same volume in the same run;
(c) migration throughput for the same volume between two real engines: the MIGRATE action's copy step (the stopped
    source's volume streamed into the target's while it is kept, zstd-compressed, as a backup), against a bare
    `tar -c | zstd -3 | zstd -d | tar -x` from the source volume into an empty target volume (the same work
    without the portal), and the whole move's time;
(d) time to drain a server holding 10 instances onto two others.

Needs root, dockerd, busybox-static, tar and zstd. Run: .venv/bin/python bench/capacity.py
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._support import median, percentile

VAR = Path(tempfile.mkdtemp(prefix="portal-bench-capacity-"))
os.environ.update(
    DATABASE_URL=f"sqlite:///{VAR / 'portal.db'}",
    VAR_DIR=str(VAR),
    PROXY_BACKEND="none",
    INSTANCE_SCHEME="http",
    BACKUP_DIR=str(VAR / "backups"),
    PROVISION_HEALTH_TIMEOUT_SECONDS="30",
    PROVISION_PREWARM="false",
)

from sqlmodel import Session, SQLModel, select

from services.backups.snapshots import new_backup
from services.capacity import placement, servers
from services.db import get_engine, session_scope
from services.models import Instance, ProvisioningAction, ProvisioningStep, Server
from services.provisioning import actions, engine, moves
from tests.support.docker_env import Dockerd, build_test_image, start_dockerd
from tests.support.factories import customer_instance

VOLUME_MB = int(os.environ.get("BENCH_VOLUME_MB", "200"))
PLACEMENTS = 1000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))  # each throughput is the median of this many copies


def fresh_schema() -> None:
    database = get_engine()
    SQLModel.metadata.drop_all(database)
    SQLModel.metadata.create_all(database)


def placement_decisions() -> list[float]:
    """50 servers holding 10,000 instances between them; then 1,000 placements, each timed."""
    fresh_schema()
    with session_scope() as session:
        for n in range(50):
            session.add(
                Server(
                    name=f"s{n:02d}",
                    address=f"unix:///run/s{n}.sock",
                    memory_mb=64 * 1024,
                    millicpus=32_000,
                    max_instances=260,
                    allocated_instances=200,
                    allocated_memory_mb=200 * 256,
                    allocated_millicpus=200 * 100,
                )
            )
    with session_scope() as session:
        template_instance = customer_instance(session, "template")  # one customer, plan and template
        instance_rows = [
            Instance(
                organization_id=template_instance.organization_id,
                subscription_id=template_instance.subscription_id,
                app_template_id=template_instance.app_template_id,
                subdomain=f"i{n}",
                status="running",
                server_id=1 + n % 50,
                reserved_memory_mb=256,
                reserved_millicpus=100,
            )
            for n in range(10_000)
        ]
        session.add_all(instance_rows)
    with session_scope() as session:
        ids = []
        base = session.exec(select(Instance).where(Instance.subdomain == "template")).one()
        for n in range(PLACEMENTS):
            row = Instance(
                organization_id=base.organization_id,
                subscription_id=base.subscription_id,
                app_template_id=base.app_template_id,
                subdomain=f"new{n}",
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    took: list[float] = []
    for instance_id in ids:
        with Session(get_engine(), expire_on_commit=False) as session:
            instance = session.get(Instance, instance_id)
            started = time.perf_counter()
            placement.place(session, instance)  # type: ignore[arg-type]
            took.append(time.perf_counter() - started)
            session.commit()
    return took


def fill_volume(daemon: Dockerd, name: str) -> Path:
    """VOLUME_MB of data into the volume: half random (as uploads), half text (as a database's pages)."""
    client = daemon.client()
    mountpoint = Path(client.volumes.get(name).attrs["Mountpoint"])
    client.close()
    half = VOLUME_MB * 1024 * 1024 // 2
    (mountpoint / "uploads.bin").write_bytes(os.urandom(half))
    line = b"2026-12-07 18:20:00 INFO request served in 12 ms for customer 4711 path=/api/items?page=3\n"
    with open(mountpoint / "records.log", "wb") as out:
        written = 0
        while written < half:
            out.write(line * 1024)
            written += len(line) * 1024
    subprocess.run(["sync"], check=True)
    return mountpoint


def drop_caches() -> None:
    """Each copy starts from the disk, not from what the previous one left in the page cache."""
    subprocess.run(["sync"], check=True)
    with contextlib.suppress(OSError):  # not allowed here: every copy then reads from the page cache alike
        Path("/proc/sys/vm/drop_caches").write_text("3\n")


def bare_backup(mountpoint: Path) -> float:
    target = VAR / "bare.tar.zst"
    drop_caches()
    started = time.perf_counter()
    subprocess.run(
        f"tar -C {mountpoint} -cf - . | zstd -3 -q -o {target} -f", shell=True, check=True, executable="/bin/bash"
    )
    took = time.perf_counter() - started
    target.unlink()
    return took


def bare_copy(source: Path, target: Path) -> float:
    drop_caches()
    started = time.perf_counter()
    subprocess.run(
        f"tar -C {source} -cf - . | zstd -3 -q -c | zstd -d -q -c | tar -C {target} -xf -",
        shell=True,
        check=True,
        executable="/bin/bash",
    )
    took = time.perf_counter() - started
    for item in target.iterdir():
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()
    return took


def run(action_id: str) -> None:
    status = engine.execute(action_id)
    assert status == "succeeded", status


def step_seconds(action_id: str, *names: str) -> float:
    with session_scope() as session:
        rows = session.exec(
            select(ProvisioningStep).where(
                ProvisioningStep.action_id == action_id, ProvisioningStep.status == "succeeded"
            )
        ).all()
        return sum((r.finished_at - r.started_at).total_seconds() for r in rows if r.step in names)  # type: ignore[operator]


def provisioned(name: str) -> Instance:
    with session_scope() as session:
        instance = customer_instance(session, name)
        action = engine.request_action(session, instance, actions.PROVISION, requested_by="bench")
        action_id = action.id
        instance_id = instance.id
    run(action_id)
    with session_scope() as session:
        found = session.get(Instance, instance_id)
        session.expunge(found)  # type: ignore[arg-type]
        return found  # type: ignore[return-value]


def main() -> None:
    decisions = placement_decisions()
    print("servers: 50")
    print("instances placed before: 10000")
    print(f"placement decision p50: {median(decisions) * 1000:.2f} ms")
    print(f"placement decision p99: {percentile(decisions, 99) * 1000:.2f} ms ({len(decisions)} calls)")

    engine.set_scheduler(lambda _action_id, _delay: None)
    daemons = [start_dockerd(pool, iptables=False) for pool in ("10.221.0.0/16", "10.222.0.0/16", "10.223.0.0/16")]
    try:
        for daemon in daemons:
            client = daemon.client()
            build_test_image(client)
            client.close()
        os.environ["DOCKER_HOST"] = daemons[0].host
        fresh_schema()
        with session_scope() as session:
            for n, daemon in enumerate(daemons, start=1):
                servers.add_server(session, name=f"e{n}", backend="docker", address=daemon.host)
            servers.drain(session, "e2")
            servers.drain(session, "e3")
        instance = provisioned("bigdata")
        source = fill_volume(daemons[0], f"portal-{instance.subdomain}-data")
        data_mb = sum(p.stat().st_size for p in source.iterdir()) / 1024 / 1024

        bare = [bare_backup(source) for _ in range(ROUNDS)]
        ours = []
        for _ in range(ROUNDS):
            with session_scope() as session:
                row = session.get(Instance, instance.id)
                backup = new_backup(session, row, "manual")  # type: ignore[arg-type]
                action_id = engine.request_action(
                    session,
                    row,
                    actions.BACKUP,
                    requested_by="bench",
                    params={"backup_id": backup.id},  # type: ignore[arg-type]
                ).id
            drop_caches()
            run(action_id)
            ours.append(step_seconds(action_id, "snapshot"))
        backup_rate, bare_rate = data_mb / median(ours), data_mb / median(bare)
        print(f"volume: {data_mb:.0f} MB")
        print(f"backup throughput: {backup_rate:.0f} MB/s")
        print(f"bare tar | zstd throughput: {bare_rate:.0f} MB/s")
        print(f"ratio backup to bare: {backup_rate / bare_rate:.2f}")

        client = daemons[1].client()
        scratch = client.volumes.create("bench-scratch")
        target = Path(scratch.attrs["Mountpoint"])
        client.close()
        bare_moves = [bare_copy(source, target) for _ in range(ROUNDS)]
        copies, totals = [], []
        for target in ("e2", "e1") * (ROUNDS // 2) + ("e2",):  # back and forth: from the other engine each time
            with session_scope() as session:
                servers.activate(session, target)
                row = session.get(Instance, instance.id)
                move_id = moves.request_move(
                    session,
                    row,
                    requested_by="bench",
                    target=servers.get_server(session, target),  # type: ignore[arg-type]
                ).id
            drop_caches()
            started = time.perf_counter()
            run(move_id)
            totals.append(time.perf_counter() - started)
            copies.append(step_seconds(move_id, "copy_to_target"))
        move_total, copy_seconds = median(totals), median(copies)
        move_rate, bare_move_rate = data_mb / copy_seconds, data_mb / median(bare_moves)
        print(f"migration throughput: {move_rate:.0f} MB/s")
        print(f"bare tar | zstd | zstd -d | tar -x throughput: {bare_move_rate:.0f} MB/s")
        print(f"ratio migration to bare: {move_rate / bare_move_rate:.2f}")
        print(f"migration of a {data_mb:.0f} MB instance, stop to old copy removed, median: {move_total:.1f} s")

        with session_scope() as session:  # ten instances on e1 alone, then e1 drained onto e2 and e3
            servers.drain(session, "e2")
            servers.drain(session, "e3")
            servers.activate(session, "e1")
        for n in range(10):
            provisioned(f"tenant{n}")
        with session_scope() as session:
            on_e1 = len(session.exec(select(Instance).where(Instance.server_id == 1)).all())
            servers.activate(session, "e2")
            servers.activate(session, "e3")
        started = time.perf_counter()
        with session_scope() as session:
            queued = moves.drain_server(session, "e1", requested_by="bench")
        with session_scope() as session:
            pending = [
                a.id
                for a in session.exec(
                    select(ProvisioningAction).where(
                        ProvisioningAction.action == actions.MIGRATE, ProvisioningAction.status == "queued"
                    )
                ).all()
            ]
        with ThreadPoolExecutor(4) as workers:  # as one job consumer runs them: four worker threads
            list(workers.map(run, pending))
        drained = time.perf_counter() - started
        print(f"instances on the drained server: {on_e1} ({queued} moved)")
        print(f"time to drain a server holding {on_e1} instances: {drained:.1f} s")
    finally:
        for daemon in daemons:
            daemon.cleanup()
        shutil.rmtree(VAR, ignore_errors=True)


if __name__ == "__main__":
    main()
