"""The Servers tab: platform staff see the pool's load, add servers, drain and remove them, and move a down
server's instances from their last backups. Servers carry every tenant's instances, so only the platform's own
staff see or change them (never a reseller)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlmodel import Session

from services import audit
from services.capacity import servers
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.provisioning import moves
from services.tenancy.scope import Actor, authorise


def _number(values: dict[str, Any], name: str, kind: type) -> Any:
    raw = str(values.get(name) or "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ValidationFailed.single(name, N_("must be a number")) from None


def pool(session: Session, actor: Actor | None) -> list[dict[str, Any]]:
    authorise(session, actor, "view", action="servers.list", target=("server", "*"), platform=True)
    rows = []
    for row in servers.pool(session):
        progress = moves.drain_progress(session, row.name) if row.state != "active" else None
        rows.append(
            {
                **{k: ("" if v is None else v) for k, v in asdict(row).items()},
                "moving": progress.moving if progress else 0,
                "parked": progress.parked if progress else 0,
            }
        )
    return rows


def add(session: Session, actor: Actor | None, values: dict[str, Any], *, ip: str = "") -> str:
    checked = authorise(session, actor, "manage", action="servers.add", target=("server", "new"), platform=True)
    try:
        server = servers.add_server(
            session,
            name=str(values.get("name") or ""),
            backend=str(values.get("backend") or "docker"),
            address=str(values.get("address") or ""),
            region=str(values.get("region") or ""),
            memory_mb=_number(values, "memory_mb", int),
            cpus=_number(values, "cpus", float),
            max_instances=_number(values, "max_instances", int),
            publish_host=str(values.get("publish_host") or "127.0.0.1"),
        )
    except servers.ServerRefused as exc:
        raise ValidationFailed.single("", str(exc)) from exc
    audit.record(
        session,
        "server.add",
        **checked.audit_fields(),
        target=("server", server.id),
        ip=ip,
        details={"name": server.name, "backend": server.backend},
    )
    return server.name


def change(session: Session, actor: Actor | None, name: str, what: str, *, ip: str = "") -> str:
    """drain (moves everything off), activate, or remove (empty servers only); returns what happened."""
    checked = authorise(session, actor, "manage", action=f"servers.{what}", target=("server", name), platform=True)
    try:
        if what == "drain":
            told = f"{moves.drain_server(session, name, requested_by=f'admin:{checked.email}')} instance(s) moving"
        elif what == "activate":
            servers.activate(session, name)
            told = "takes new instances again"
        elif what == "remove":
            servers.remove(session, name)
            told = "removed from the pool"
        else:
            raise ValidationFailed.single("", say("Unknown change {what!r}.", what=what))
    except servers.ServerRefused as exc:
        raise ValidationFailed.single("", str(exc)) from exc
    audit.record(session, f"server.{what}", **checked.audit_fields(), target=("server", name), ip=ip)
    return f"{name}: {told}"


def move_from_backups(session: Session, actor: Actor | None, name: str, *, ip: str = "") -> int:
    """A down server's instances, each started elsewhere from its last backup; returns how many were queued."""
    checked = authorise(session, actor, "manage", action="servers.recover", target=("server", name), platform=True)
    try:
        server = servers.get_server(session, name)
    except servers.ServerRefused as exc:
        raise ValidationFailed.single("", str(exc)) from exc
    if server.state != "down":
        raise ValidationFailed.single(
            "", say("{name} answers: drain it instead, which moves the current data.", name=name)
        )
    queued = moves.drain_server(session, name, requested_by=f"admin:{checked.email}")  # down: from backups
    audit.record(
        session, "server.recover", **checked.audit_fields(), target=("server", name), ip=ip, details={"queued": queued}
    )
    return queued
