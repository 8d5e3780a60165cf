"""Backups from the customer's side without an engine: who may do what, the download link's limits, the schedule
and the retention. Taking and restoring on real engines: tests/integration/test_server_pool.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.backups import snapshots
from services.backups.store import FolderStore, StoreError
from services.customer import backups
from services.errors import ValidationFailed
from services.models import AppTemplate, Backup, Instance, Membership, Plan, ProvisioningAction, Subscription
from services.models.base import utcnow
from services.provisioning import actions
from services.provisioning import backup_schedule as schedule
from services.tenancy.scope import Customer, resolve_customer
from tests.support.env import SettingsEnv
from tests.support.factories import customer_instance, staff_member


@pytest.fixture()
def running(db: Session, settings_env: SettingsEnv, tmp_path: Path, scheduled_actions: list) -> Instance:
    settings_env.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    instance = customer_instance(db, "keeper")
    instance.status = "running"
    db.add(instance)
    db.commit()
    return instance


def _owner(db: Session, instance: Instance) -> Customer:
    member = db.exec(select(Membership).where(Membership.organization_id == instance.organization_id)).first()
    who = resolve_customer(db, member.user_id)  # type: ignore[union-attr]
    assert who is not None
    return who


def _finished(db: Session, instance: Instance, kind: str = "manual", at_minutes: int = 0) -> Backup:
    row = snapshots.new_backup(db, instance, kind)
    row.status, row.object_key, row.sha256 = "complete", f"instance-{instance.id}/{row.id}.tar.zst", "0" * 64
    row.created_at = utcnow() - timedelta(minutes=at_minutes)
    db.add(row)
    db.commit()
    return row


def test_back_up_now_queues_one_backup_action_and_refuses_while_busy(db: Session, running: Instance) -> None:
    who = _owner(db, running)
    backup_id = backups.back_up_now(db, who, running.id)  # type: ignore[arg-type]
    db.commit()
    action = db.exec(select(ProvisioningAction).where(ProvisioningAction.instance_id == running.id)).one()
    assert (action.action, action.params) == (actions.BACKUP, {"backup_id": backup_id})
    with pytest.raises(ValidationFailed, match="Another action is still running"):
        backups.back_up_now(db, who, running.id)  # type: ignore[arg-type]


def test_coolify_instances_say_what_coolify_does_not_offer(db: Session, running: Instance) -> None:
    template = db.get(AppTemplate, running.app_template_id)
    template.backend = "coolify"  # type: ignore[union-attr]
    db.add(template)
    db.commit()
    with pytest.raises(ValidationFailed, match="Coolify's API backs up databases only"):
        backups.back_up_now(db, _owner(db, running), running.id)  # type: ignore[arg-type]


def test_a_member_sees_no_restore_and_no_download(db: Session, running: Instance) -> None:
    from services.models import Organization

    org = db.get(Organization, running.organization_id)
    member = staff_member(db, "plainmember", org, "member")  # type: ignore[arg-type]
    db.commit()
    good = _finished(db, running)
    who = resolve_customer(db, member.id)  # type: ignore[arg-type]
    from services.tenancy.scope import Forbidden

    for attempt in (
        lambda: backups.restore_backup(db, who, running.id, good.id),  # type: ignore[arg-type]
        lambda: backups.download_link(db, who, running.id, good.id),  # type: ignore[arg-type]
        lambda: backups.list_backups(db, who, running.id),  # type: ignore[arg-type]
        lambda: backups.backups_page(db, who),
    ):
        with pytest.raises(Forbidden):
            attempt()
    support = staff_member(db, "supporter", org, "support")  # type: ignore[arg-type]
    db.commit()
    page = backups.backups_page(db, resolve_customer(db, support.id))  # type: ignore[arg-type]
    assert page.backups and not page.can_manage  # support sees the list and may back up, not restore


def test_restore_takes_a_safety_backup_first_and_only_of_its_own_finished_backups(
    db: Session, running: Instance
) -> None:
    who = _owner(db, running)
    other = customer_instance(db, "stranger")
    theirs = _finished(db, other)
    with pytest.raises(ValidationFailed, match="not one of this instance's"):
        backups.restore_backup(db, who, running.id, theirs.id)  # type: ignore[arg-type]
    failed = snapshots.new_backup(db, running, "manual")
    failed.status = "failed"
    db.add(failed)
    db.commit()
    with pytest.raises(ValidationFailed, match="did not finish"):
        backups.restore_backup(db, who, running.id, failed.id)  # type: ignore[arg-type]
    good = _finished(db, running)
    action_id = backups.restore_backup(db, who, running.id, good.id)  # type: ignore[arg-type]
    db.commit()
    row = db.get(ProvisioningAction, action_id)
    safety = db.get(Backup, row.params["safety_backup_id"])  # type: ignore[union-attr]
    assert row.action == actions.RESTORE and row.params["backup_id"] == good.id  # type: ignore[union-attr]
    assert safety is not None and safety.kind == "pre-restore" and safety.status == "pending"
    assert actions.STEPS[actions.RESTORE][0] == "snapshot_before_restore"  # the current state is kept first


def test_a_download_link_is_for_one_person_and_five_minutes(
    db: Session, running: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    who = _owner(db, running)
    good = _finished(db, running)
    link = backups.download_link(db, who, running.id, good.id)  # type: ignore[arg-type]
    token = link.split("token=", 1)[1]
    assert backups.backup_for_link(db, token).id == good.id  # type: ignore[union-attr]
    assert backups.backup_for_link(db, token[:-4] + "AAAA") is None  # tampered
    later = time.time() + backups.DOWNLOAD_SECONDS + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert backups.backup_for_link(db, token) is None  # expired
    monkeypatch.undo()
    membership = db.exec(select(Membership).where(Membership.user_id == who.user_id)).one()
    membership.role = "member"  # demoted since the link was made
    db.add(membership)
    db.commit()
    assert backups.backup_for_link(db, token) is None


def test_retention_keeps_the_plans_number_of_newest_and_drops_failed(
    db: Session, running: Instance, tmp_path: Path
) -> None:
    plan = db.get(Plan, db.get(Subscription, running.subscription_id).plan_id)  # type: ignore[union-attr]
    plan.limits = {**plan.limits, "backups_kept": 2}  # type: ignore[union-attr]
    db.add(plan)
    db.commit()
    store = FolderStore(tmp_path / "backups")
    rows = [_finished(db, running, at_minutes=60 - n) for n in range(4)]  # oldest first
    for row in rows:
        store.put(row.object_key, [b"data"])
    failed = snapshots.new_backup(db, running, "scheduled")
    failed.status = "failed"
    db.add(failed)
    db.commit()
    assert snapshots.prune(db, running) == 3
    db.commit()
    kept = {r.id for r in db.exec(select(Backup)).all()}
    assert kept == {rows[2].id, rows[3].id}
    assert not (tmp_path / "backups" / rows[0].object_key).exists()
    assert (tmp_path / "backups" / rows[3].object_key).exists()


def test_the_schedule_queues_what_is_due_and_nothing_else(db: Session, running: Instance) -> None:
    fresh = customer_instance(db, "fresh")
    off = customer_instance(db, "off")
    for instance in (fresh, off):
        instance.status = "running"
        db.add(instance)
    plan_off = db.get(Plan, db.get(Subscription, off.subscription_id).plan_id)  # type: ignore[union-attr]
    plan_off.limits = {**plan_off.limits, "backup_interval_hours": 0}  # type: ignore[union-attr]
    db.add(plan_off)
    db.commit()
    _finished(db, running, "scheduled", at_minutes=25 * 60)  # a day and an hour ago: due
    _finished(db, fresh, "scheduled", at_minutes=60)  # an hour ago: not due
    assert schedule.queue_due_backups(db) == 1
    db.commit()
    queued = db.exec(select(ProvisioningAction)).all()
    assert [(a.instance_id, a.action) for a in queued] == [(running.id, actions.BACKUP)]
    assert schedule.queue_due_backups(db) == 0  # the queued one is not asked for twice


def test_the_folder_store_keeps_its_objects_inside_its_folder(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "backups")
    with pytest.raises(StoreError):
        store.put("../../etc/evil", [b"x"])
    size, digest = store.put("instance-1/a.tar.zst", iter([b"ab", b"c"]))
    assert size == 3 and b"".join(store.get("instance-1/a.tar.zst")) == b"abc" and len(digest) == 64
    with pytest.raises(StoreError):
        list(store.get("instance-1/missing.tar.zst"))


def test_removing_an_instance_for_good_removes_its_backups(db: Session, running: Instance, tmp_path: Path) -> None:
    from services.provisioning import steps

    store = FolderStore(tmp_path / "backups")
    kept = _finished(db, running)
    object_key = kept.object_key
    store.put(object_key, [b"customer data"])
    template = db.get(AppTemplate, running.app_template_id)
    template.backend = "memory"  # type: ignore[union-attr]
    db.add(template)
    db.commit()
    from services.provisioning.backends import register
    from tests.support.memory_backend import MemoryBackend

    register("memory", MemoryBackend)
    context = steps.StepContext(instance_id=running.id, backend=MemoryBackend(), proxy=None)  # type: ignore[arg-type]
    steps.prepare_config(context)  # its secrets, as provisioning made them
    steps.destroy(context)
    db.expire_all()
    assert db.exec(select(Backup)).all() == []
    assert not (tmp_path / "backups" / object_key).exists()
