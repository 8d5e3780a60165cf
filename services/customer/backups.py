"""A customer's backups from the dashboard: list them, take one now, download one, restore one.

Every call proves the instance is the customer's own first (services/customer/scope.py). Taking and restoring go
through the provisioning engine like every other action, so they are recorded, retried and shown step by step. A
download is a link that names one backup and one person and lasts five minutes (the download route checks it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlmodel import Session, col, select

from services import audit
from services.backups.snapshots import COOLIFY_SAYS, new_backup
from services.crypto import decrypt, encrypt
from services.customer.scope import own_instance, refuse_while_busy, requested_by
from services.errors import ValidationFailed
from services.i18n import format_date, translate
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import AppTemplate, Backup, Instance
from services.models.base import key
from services.provisioning import actions, engine
from services.provisioning.wording import status_said
from services.tenancy.scope import CAPABILITIES, Customer, resolve_customer

DOWNLOAD_SECONDS = 300
_PURPOSE = "backup-download"
BACKUPS_SHOWN = 50
RESTORABLE_FROM = ("running", "stopped", "error", "unknown")
KIND_LABELS = {
    "scheduled": N_("Scheduled"),
    "manual": N_("Taken by hand"),
    "pre-restore": N_("Before a restore"),
    "migration": N_("Before a move"),
}
STATUS_LABELS = {"pending": N_("In progress"), "complete": N_("Complete"), "failed": N_("Failed")}


@dataclass(frozen=True)
class BackupView:
    id: str
    taken: str
    kind: str
    status: str  # pending | complete | failed: what the page decides on
    status_label: str  # what it says, in the page's language
    size: str
    error: str


def _size(value: int) -> str:
    amount = float(value)
    for unit in ("bytes", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1024
    return ""


def list_backups(session: Session, who: Customer | None, instance_id: int, language: str = "en") -> list[BackupView]:
    instance = own_instance(session, who, instance_id, capability="instances", attempted="backup.list")
    rows = session.exec(
        select(Backup)
        .where(col(Backup.instance_id) == key(instance))
        .order_by(col(Backup.created_at).desc())
        .limit(BACKUPS_SHOWN)
    ).all()
    return [
        BackupView(
            id=row.id,
            taken=format_date(row.created_at, language, with_time=True) + " UTC",
            kind=translate(language, KIND_LABELS.get(row.kind, row.kind)),
            status=row.status,
            status_label=translate(language, STATUS_LABELS.get(row.status, row.status)),
            size=_size(row.size_bytes) if row.status == "complete" else "",
            error=row.error or "",
        )
        for row in rows
    ]


def _on_volumes(session: Session, instance: Instance) -> None:
    template = session.get(AppTemplate, instance.app_template_id) if instance.app_template_id else None
    if template is None or template.backend != "docker":
        raise ValidationFailed.single("", COOLIFY_SAYS)


def back_up_now(session: Session, who: Customer | None, instance_id: int, ip: str = "") -> str:
    """Queue a backup of the instance as it is now; returns the backup's id."""
    instance = own_instance(session, who, instance_id, capability="instances", attempted="backup.create", ip=ip)
    assert who is not None
    _on_volumes(session, instance)
    if instance.status not in RESTORABLE_FROM:
        raise ValidationFailed.single(
            "", say("Your instance cannot be backed up now (its status: {status}).", status=status_said(instance))
        )
    refuse_while_busy(session, instance)
    backup = new_backup(session, instance, "manual")
    engine.request_action(
        session, instance, actions.BACKUP, requested_by=requested_by(who), params={"backup_id": backup.id}
    )
    audit.record(
        session,
        "backup.create",
        **who.audit_fields(),
        target=("instance", instance.id),
        organization_id=instance.organization_id,
        ip=ip,
        details={"backup": backup.id},
    )
    return backup.id


def _own_backup(session: Session, instance: Instance, backup_id: str) -> Backup:
    backup = session.get(Backup, backup_id)
    if backup is None or backup.instance_id != key(instance):
        raise ValidationFailed.single("", N_("That backup is not one of this instance's."))
    if backup.status != "complete":
        raise ValidationFailed.single("", N_("That backup did not finish, so it cannot be used."))
    return backup


def restore_backup(session: Session, who: Customer | None, instance_id: int, backup_id: str, ip: str = "") -> str:
    """Queue the restore: the current data is backed up first, then replaced, then the instance restarted."""
    instance = own_instance(session, who, instance_id, capability="manage", attempted="backup.restore", ip=ip)
    assert who is not None
    _on_volumes(session, instance)
    backup = _own_backup(session, instance, backup_id)
    if instance.desired_state == "suspended" or instance.status not in RESTORABLE_FROM:
        raise ValidationFailed.single(
            "", say("Your instance cannot be restored now (its status: {status}).", status=status_said(instance))
        )
    refuse_while_busy(session, instance)
    safety = new_backup(session, instance, "pre-restore")
    row = engine.request_action(
        session,
        instance,
        actions.RESTORE,
        requested_by=requested_by(who),
        params={"backup_id": backup.id, "safety_backup_id": safety.id},
    )
    audit.record(
        session,
        "backup.restore",
        **who.audit_fields(),
        target=("instance", instance.id),
        organization_id=instance.organization_id,
        ip=ip,
        details={"backup": backup.id, "safety_backup": safety.id},
    )
    return row.id


def download_link(session: Session, who: Customer | None, instance_id: int, backup_id: str) -> str:
    """A link to this backup for this person, valid five minutes: the one place its capability is shown."""
    instance = own_instance(session, who, instance_id, capability="manage", attempted="backup.download")
    assert who is not None
    backup = _own_backup(session, instance, backup_id)
    token = encrypt(f"{_PURPOSE}:{backup.id}:{who.user_id}")
    return f"/api/backups/download?token={token}"  # on the host the customer is on: a reseller's stays theirs


def backup_for_link(session: Session, token: str) -> Backup | None:
    """The backup a download link names, if it is under five minutes old, untampered, and its person may still
    download it (a member removed since the link was made gets nothing)."""
    try:
        purpose, backup_id, user_id = decrypt(token, ttl_seconds=DOWNLOAD_SECONDS).split(":")
    except ValueError:
        return None
    if purpose != _PURPOSE or not user_id.isdigit():
        return None
    backup = session.get(Backup, backup_id)
    who = resolve_customer(session, int(user_id))
    if backup is None or backup.status != "complete" or who is None:
        return None
    if who.organization_id != backup.organization_id or who.role not in CAPABILITIES["manage"]:
        return None
    return backup


@dataclass
class BackupsPage:
    instance_id: int = 0
    subdomain: str = ""
    can_manage: bool = False
    supported: bool = True
    busy: bool = False
    backups: list[dict[str, str]] | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "instance_id": self.instance_id,
            "subdomain": self.subdomain,
            "can_manage": self.can_manage,
            "supported": self.supported,
            "busy": self.busy,
            "backups": self.backups or [],
        }


def backups_page(session: Session, who: Customer | None, language: str = "en") -> BackupsPage:
    """The customer's instance and its backups (none yet: an empty list the page explains)."""
    organization_id = who.organization_id if who is not None else None
    instance = session.exec(
        select(Instance)
        .where(col(Instance.organization_id) == organization_id, col(Instance.status) != "deprovisioned")
        .order_by(col(Instance.id).desc())
    ).first()
    if instance is None or who is None:
        return BackupsPage()
    rows = list_backups(session, who, key(instance), language)
    template = session.get(AppTemplate, instance.app_template_id) if instance.app_template_id else None
    return BackupsPage(
        instance_id=key(instance),
        subdomain=instance.subdomain,
        can_manage=who.role in CAPABILITIES["manage"] and (who.impersonator is None or who.impersonator.can("manage")),
        supported=template is not None and template.backend == "docker",
        busy=engine.active_action(session, key(instance)) is not None,
        backups=[asdict(row) for row in rows],
    )
