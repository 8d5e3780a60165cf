"""The named steps. Each one reads the current truth and is safe to run again (after a crash, twice, later)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from services.branding.brand import portal_url
from services.config import get_settings
from services.db import session_scope
from services.mail.outgoing import send_after_commit
from services.models import Instance
from services.models.base import utcnow
from services.provisioning.backends.base import Backend, Placement
from services.provisioning.credentials import ensure_credentials
from services.provisioning.errors import ProvisioningError
from services.provisioning.proxy import Proxy, Route
from services.provisioning.spec import InstanceSpec, build_spec


@dataclass
class StepContext:
    instance_id: int
    backend: Backend
    proxy: Proxy

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


def stop(ctx: StepContext) -> None:
    ctx.backend.stop(ctx.spec())


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
        session.add(instance)


STEP_FUNCTIONS: dict[str, Callable[[StepContext], None]] = {
    fn.__name__: fn
    for fn in (
        prepare_config,
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
    )
}
