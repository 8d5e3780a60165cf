"""Moving an instance to another server, and draining a server by moving everything off it.

A move is a resumable action of the provisioning engine (MIGRATE): the container stops on its server, its data
volume is backed up (zstd-compressed, streamed to the backup store), restored into a new volume on the target,
started there; then the instance's record and its route switch to the target, and the old copy is removed only
once the new one answers its health check through the edge. The target's slot is taken when the move is asked
for (the same conditional UPDATE as any placement), so a crowd placed meanwhile cannot take it.

A server that stopped answering cannot give its data: staff move its instances from their last backup instead
(`from_backup`), and the old copy is left for when the server returns (`portal-admin cleanup`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.backups.snapshots import COOLIFY_SAYS, new_backup
from services.capacity import placement
from services.capacity.fit import Need
from services.capacity.servers import ServerRefused, drain, get_server
from services.models import Backup, Instance, ProvisioningAction, Server
from services.models.base import key
from services.provisioning import actions, engine

MOVABLE = ("running", "stopped", "error", "unknown")


class MoveRefused(ValueError):
    """The move cannot be asked for; the message says why and nothing changed."""


def request_move(
    session: Session,
    instance: Instance,
    *,
    requested_by: str,
    target: Server | None = None,
    from_backup: bool = False,
) -> ProvisioningAction:
    """Queue a move of `instance` to `target` (or the best other server that fits)."""
    if instance.server_id is None:
        raise MoveRefused(f"{instance.subdomain} is not placed on a server yet.")
    if placement.backend_of(session, instance) != "docker":
        raise MoveRefused(COOLIFY_SAYS)
    if instance.status not in MOVABLE:
        raise MoveRefused(f"{instance.subdomain} cannot move while it is {instance.status}.")
    if engine.active_action(session, key(instance)) is not None:
        raise MoveRefused(f"{instance.subdomain} has an action running; move it once that is done.")
    source = session.get(Server, instance.server_id)
    assert source is not None
    backup_id = _last_backup(session, instance) if from_backup else new_backup(session, instance, "migration").id
    need = Need(instance.reserved_memory_mb, instance.reserved_millicpus)
    chosen = _take_target(session, source, need, target)
    return engine.request_action(
        session,
        instance,
        actions.MIGRATE,
        requested_by=requested_by,
        params={
            "source_server_id": key(source),
            "target_server_id": key(chosen),
            "backup_id": backup_id,
            "from_backup": from_backup,
        },
    )


def _last_backup(session: Session, instance: Instance) -> str:
    last = session.exec(
        select(col(Backup.id))
        .where(col(Backup.instance_id) == key(instance), col(Backup.status) == "complete")
        .order_by(col(Backup.created_at).desc())
    ).first()
    if last is None:
        raise MoveRefused(f"{instance.subdomain} has no finished backup to move from.")
    return str(last)


def _take_target(session: Session, source: Server, need: Need, target: Server | None) -> Server:
    if target is not None:
        if target.id == source.id or target.backend != source.backend:
            raise MoveRefused("The target must be another server of the same backend.")
        if placement.take(session, target, need):
            return target
        raise MoveRefused(f"{target.name} has no room for this instance.")
    others = [s for s in placement.candidates(session, source.backend, None) if s.id != source.id]
    for server in placement.ranked(others, need):
        if placement.take(session, server, need):
            chosen = session.get(Server, server.id)
            assert chosen is not None
            return chosen
    raise MoveRefused("No other server has room for this instance: add a server first.")


def drain_server(session: Session, name: str, *, requested_by: str) -> int:
    """Take no new instances there, and move each instance it holds; returns how many moves were queued."""
    server = drain(session, name)
    from_backup = server.state == "down"
    queued = 0
    for instance in session.exec(select(Instance).where(col(Instance.server_id) == key(server))).all():
        try:
            request_move(session, instance, requested_by=requested_by, from_backup=from_backup)
        except MoveRefused:
            continue  # busy or not movable now: the progress view shows it, a second drain picks it up
        queued += 1
    return queued


@dataclass(frozen=True)
class DrainProgress:
    server: str
    state: str
    remaining: int
    moving: int
    parked: int


def drain_progress(session: Session, name: str) -> DrainProgress:
    server = get_server(session, name)
    remaining = session.exec(select(Instance).where(col(Instance.server_id) == key(server))).all()
    moves = session.exec(
        select(ProvisioningAction).where(
            col(ProvisioningAction.instance_id).in_([key(i) for i in remaining] or [0]),
            col(ProvisioningAction.action) == actions.MIGRATE,
        )
    ).all()
    return DrainProgress(
        server=server.name,
        state=server.state,
        remaining=len(remaining),
        moving=sum(1 for m in moves if m.status in actions.ACTIVE_STATUSES),
        parked=sum(1 for m in moves if m.status == "parked"),
    )


__all__ = ["DrainProgress", "MoveRefused", "ServerRefused", "drain_progress", "drain_server", "request_move"]
