"""The named steps. Each one reads the current truth and is safe to run again (after a crash, twice, later)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from services.backups import snapshots
from services.branding.brand import portal_url
from services.capacity import placement
from services.capacity.fit import Need
from services.config import get_settings
from services.db import session_scope
from services.mail.outgoing import send_after_commit
from services.models import Instance
from services.models.base import utcnow
from services.provisioning.backends.base import Backend, Placement
from services.provisioning.credentials import ensure_credentials
from services.provisioning.errors import PermanentError, ProvisioningError
from services.provisioning.proxy import Proxy, Route
from services.provisioning.spec import InstanceSpec, build_spec, server_ref


@dataclass
class StepContext:
    instance_id: int
    backend: Backend
    proxy: Proxy
    params: dict[str, Any] = field(default_factory=dict)  # the action's own (which backup to restore)

    def spec(self) -> InstanceSpec:
        with session_scope() as session:
            return build_spec(session, _instance(session, self.instance_id))


def _instance(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise ProvisioningError(f"instance {instance_id} no longer exists")
    return instance


def _save_placement(instance_id: int, placement: Placement) -> None:
    with session_scope() as session:
        instance = _instance(session, instance_id)
        instance.external_id = placement.external_id or instance.external_id
        instance.upstream = placement.upstream
        instance.updated_at = utcnow()
        session.add(instance)


def prepare_config(ctx: StepContext) -> None:
    with session_scope() as session:
        ensure_credentials(session, _instance(session, ctx.instance_id))
    ctx.spec()  # renders the environment now, so a broken template fails here with its line number


def place(ctx: StepContext) -> None:
    """Choose the server of the pool it runs on (kept once chosen); no room anywhere parks the action."""
    with session_scope() as session:
        placement.place(session, _instance(session, ctx.instance_id))


def prepare_backend(ctx: StepContext) -> None:
    placement = ctx.backend.prepare(ctx.spec())
    if placement is not None:  # the backend created something it must find again (Coolify's application)
        _save_placement(ctx.instance_id, placement)


def deploy(ctx: StepContext) -> None:
    _save_placement(ctx.instance_id, ctx.backend.deploy(ctx.spec()))


def create(ctx: StepContext) -> None:
    _save_placement(ctx.instance_id, ctx.backend.create(ctx.spec()))


def start(ctx: StepContext) -> None:
    _save_placement(ctx.instance_id, ctx.backend.start(ctx.spec()))


def restart(ctx: StepContext) -> None:
    _save_placement(ctx.instance_id, ctx.backend.restart(ctx.spec()))


def publish_proxy(ctx: StepContext) -> None:
    spec = ctx.spec()
    if spec.upstream:
        ctx.proxy.publish(Route(spec.instance_id, spec.subdomain, spec.hosts, spec.upstream))


def unpublish_proxy(ctx: StepContext) -> None:
    ctx.proxy.unpublish(ctx.spec().subdomain)


def wait_healthy(ctx: StepContext) -> None:
    """Checked the way customers arrive: through the proxy when there is one (which also waits out a reload)."""
    spec = ctx.spec()
    through_edge = bool(spec.upstream and ctx.proxy.address())
    timeout = get_settings().provision_health_timeout_seconds
    deadline = time.monotonic() + timeout
    delay, growth, longest = ctx.backend.health_pacing  # slow starters are polled less, Coolify less still
    while time.monotonic() < deadline:
        # through the edge, the first check also makes it obtain the instance's certificate
        if ctx.proxy.check(spec.domain, spec.health_path) if through_edge else ctx.backend.health(spec, spec.upstream):
            return
        time.sleep(delay)
        delay = min(delay * growth, longest)
    raise ProvisioningError(
        f"The instance did not answer its health check ({spec.health_path}) within {timeout:.0f} s."
    )


def send_welcome(ctx: StepContext) -> None:
    """The instance's address, and where to find its initial login: the dashboard shows it once. The password
    itself is never e-mailed (a secret in a mailbox outlives every rotation, and a seller's template could
    place it anywhere)."""
    with session_scope() as session:
        instance = _instance(session, ctx.instance_id)
        if instance.welcome_sent_at is not None:
            return
        spec = build_spec(session, instance)
        if spec.admin_email:
            send_after_commit(
                session,
                "welcome",
                spec.admin_email,
                {
                    "url": spec.url,
                    "subdomain": spec.subdomain,
                    "admin_email": spec.admin_email,
                    "dashboard_url": f"{portal_url(session, instance.organization_id)}/dashboard",
                },
                organization_id=instance.organization_id,
            )
        instance.welcome_sent_at = utcnow()
        session.add(instance)


def destroy(ctx: StepContext) -> None:
    ctx.backend.destroy(ctx.spec())
    with session_scope() as session:
        instance = _instance(session, ctx.instance_id)
        instance.upstream, instance.external_id = None, None
        placement.release(session, instance)  # its slot on the server is free again
        snapshots.forget_all(session, instance)  # and its backups go with it
        session.add(instance)


def snapshot(ctx: StepContext) -> None:
    """A backup asked for by the customer or the schedule."""
    snapshots.take(ctx.backend, ctx.spec(), str(ctx.params["backup_id"]))


def prune_backups(ctx: StepContext) -> None:
    """The plan's retention: the oldest backups beyond what it keeps go, once the new one is there."""
    with session_scope() as session:
        snapshots.prune(session, _instance(session, ctx.instance_id))


def snapshot_before_restore(ctx: StepContext) -> None:
    """The current state, kept before it is replaced, so a restore of the wrong backup can be undone. An instance
    whose container is gone has no current state to keep: the restore goes on and the safety backup says why."""
    try:
        snapshots.take(ctx.backend, ctx.spec(), str(ctx.params["safety_backup_id"]))
    except PermanentError as exc:
        if "nothing to back up" not in str(exc):
            raise


def restore_volume(ctx: StepContext) -> None:
    snapshots.restore(ctx.backend, ctx.spec(), str(ctx.params["backup_id"]))


def _spec_on(ctx: StepContext, server_id: int) -> InstanceSpec:
    """The instance as it is to be on another server: that server's engine, a port chosen there."""
    with session_scope() as session:
        spec = build_spec(session, _instance(session, ctx.instance_id))
        return replace(spec, server=server_ref(session, server_id), upstream=None, external_id=None)


def stop(ctx: StepContext) -> None:
    if ctx.params.get("from_backup"):
        return  # a move off a server that is down: nothing there answers, nothing to stop
    ctx.backend.stop(ctx.spec())


def prepare_target(ctx: StepContext) -> None:
    """The network, an empty volume and the container (not started) on the target, before the copy."""
    target = _spec_on(ctx, int(ctx.params["target_server_id"]))
    getattr(ctx.backend, "prepare_stopped", ctx.backend.prepare)(target)


def copy_to_target(ctx: StepContext) -> None:
    """The stopped source's volume streamed into the target's, kept as a backup as it streams; a move off a server
    that is down restores its last backup instead (checked as it streams: the source keeps its copy anyway)."""
    target = _spec_on(ctx, int(ctx.params["target_server_id"]))
    backup_id = str(ctx.params["backup_id"])
    if ctx.params.get("from_backup"):
        snapshots.restore(ctx.backend, target, backup_id, check_first=False)
        return
    snapshots.move_data(ctx.backend, _spec_on(ctx, int(ctx.params["source_server_id"])), target, backup_id)


def start_on_target(ctx: StepContext) -> None:
    """Started on the target; from here on the instance is the target's (its route follows in publish_proxy)."""
    target_id = int(ctx.params["target_server_id"])
    placed = ctx.backend.deploy(_spec_on(ctx, target_id))
    with session_scope() as session:
        instance = _instance(session, ctx.instance_id)
        instance.server_id, instance.host_unreachable = target_id, False
        instance.upstream, instance.external_id = placed.upstream, placed.external_id
        instance.updated_at = utcnow()
        session.add(instance)


def remove_old_copy(ctx: StepContext) -> None:
    """Only now, with the new copy answering through the edge. A source that is down keeps its copy until it is
    back (staff clean it up then); either way its slot is given back."""
    source_id = int(ctx.params["source_server_id"])
    try:
        ctx.backend.destroy(_spec_on(ctx, source_id))
    except ProvisioningError:
        if not ctx.params.get("from_backup"):
            raise
    with session_scope() as session:
        instance = _instance(session, ctx.instance_id)
        placement.give_back(session, source_id, Need(instance.reserved_memory_mb, instance.reserved_millicpus))


STEP_FUNCTIONS: dict[str, Callable[[StepContext], None]] = {
    fn.__name__: fn
    for fn in (
        prepare_config,
        place,
        prepare_backend,
        create,
        deploy,
        start,
        restart,
        stop,
        publish_proxy,
        unpublish_proxy,
        wait_healthy,
        send_welcome,
        destroy,
        snapshot,
        prune_backups,
        snapshot_before_restore,
        restore_volume,
        prepare_target,
        copy_to_target,
        start_on_target,
        remove_old_copy,
    )
}
