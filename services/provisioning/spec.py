"""Everything a backend needs to know about one instance, built from the database in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from services import templating
from services.config import get_settings
from services.gateway.keys import ensure_gateway_key, plan_models
from services.keys.usage_tokens import ensure_instance_token
from services.models import AppTemplate, Domain, Instance, Organization, Plan, Server, Subscription
from services.models.base import key
from services.provisioning.credentials import load_credentials
from services.provisioning.errors import PermanentError
from services.provisioning.labels import instance_labels
from services.provisioning.urls import instance_url
from services.tenancy.orgs import owner_user

_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ServerRef:
    """The server of the pool an instance is placed on, as its backend needs it (services/models/server.py)."""

    id: int
    name: str
    address: str  # "" means the portal's own setting (DOCKER_HOST or the default socket; COOLIFY_SERVER_UUID)
    tls_dir: str | None = None
    publish_host: str = "127.0.0.1"


@dataclass(frozen=True)
class InstanceSpec:
    instance_id: int
    subdomain: str
    owner: str
    domain: str
    url: str
    backend: str
    image: str | None
    internal_port: int
    health_path: str
    env: dict[str, str]
    limits: dict[str, Any]
    labels: dict[str, str]
    template_settings: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    upstream: str | None = None
    admin_email: str = ""
    custom_domains: tuple[str, ...] = ()  # the customer's own domains, proven by DNS (services/domains)
    server: ServerRef | None = None  # None: not placed yet, the backend's default engine

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host the instance answers on: its own first, then its customer's proven domains."""
        return (self.domain, *self.custom_domains)

    @property
    def urls(self) -> list[str]:
        """The instance's URL and one per proven domain, in the scheme the instance's URL has."""
        scheme = self.url.split("://", 1)[0]
        return [self.url, *(f"{scheme}://{host}" for host in self.custom_domains)]

    @property
    def memory_limit(self) -> str | None:
        """The plan's memory in Docker's notation (`512m`), which Docker and Coolify's limits fields both take."""
        memory_mb = self.limits.get("memory_mb")
        return f"{int(memory_mb)}m" if memory_mb else None


def render_env(template: str, context: dict[str, Any]) -> dict[str, str]:
    """Render `KEY=value` lines within the limits every tenant template has (services/templating.py); a
    broken or runaway template is a permanent error naming the line, never a crash or a stalled worker."""
    try:
        text = templating.render(template, context)
    except templating.TemplateRefused as exc:
        raise PermanentError(f"The app template's environment could not be rendered: {exc}") from exc
    env: dict[str, str] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not _ENV_KEY.match(key.strip()):
            raise PermanentError(f"Environment template line {number} is not KEY=value: {line[:60]!r}")
        env[key.strip()] = value
    return env


def identity_spec(instance: Instance, backend: str, server: ServerRef | None = None) -> InstanceSpec:
    """An instance as a backend's `status` and `statuses` read it: its id, name, backend and external id only.

    The reconciliation asks every instance's state each minute; building each one's whole spec for that (the
    template rendered, the credentials decrypted, labels made) cost seconds a pass at 10,000 instances, on the
    consumer that also sends webhooks. Whole specs are built when an action runs."""
    return InstanceSpec(
        instance_id=key(instance),
        subdomain=instance.subdomain,
        owner="",
        domain="",
        url="",
        backend=backend,
        image=None,
        internal_port=0,
        health_path="/",
        env={},
        limits={},
        labels={},
        external_id=instance.external_id,
        upstream=instance.upstream,
        server=server,
    )


def server_ref(session: Session, server_id: int | None) -> ServerRef | None:
    server = session.get(Server, server_id) if server_id is not None else None
    if server is None:
        return None
    return ServerRef(key(server), server.name, server.address, server.tls_dir, server.publish_host)


def build_spec(session: Session, instance: Instance) -> InstanceSpec:
    settings = get_settings()
    template = session.get(AppTemplate, instance.app_template_id) if instance.app_template_id else None
    org = session.get(Organization, instance.organization_id)
    subscription = session.get(Subscription, instance.subscription_id) if instance.subscription_id else None
    owner = owner_user(session, instance.organization_id)
    plan = session.get(Plan, subscription.plan_id) if subscription else None
    if template is None:
        raise PermanentError(f"Instance {instance.subdomain} has no app template.")
    limits = dict(plan.limits) if plan else {}
    domain = settings.instance_domain(instance.subdomain)
    url = instance_url(instance.subdomain, template.backend, instance.upstream)
    secrets = load_credentials(instance)
    gateway_key = ensure_gateway_key(session, instance, plan) if settings.ai_gateway_url else None
    context = {
        "customer": {
            "email": owner.email if owner else "",
            "username": owner.username if owner else "",
            "organization": org.name if org else "",
        },
        "plan": {"name": plan.name if plan else "", "slug": plan.slug if plan else ""},
        "limits": LimitView(limits),
        "domain": domain,
        "url": url,
        "secrets": secrets,
        "endpoints": template.settings.get("predefined_endpoints", []),
        # how the instance reports usage and spends through the platform's AI gateway (issue: AI gateway)
        "portal": {
            "api_url": settings.public_url.rstrip("/") + "/api/v1",
            "usage_token": ensure_instance_token(session, instance),
        },
        "gateway": {
            "url": settings.ai_gateway_url if gateway_key else "",
            "key": gateway_key or "",
            "models": ",".join(plan_models(plan)) if gateway_key else "",
        },
    }
    env = render_env(template.env_template or "", context)
    return InstanceSpec(
        instance_id=key(instance),
        subdomain=instance.subdomain,
        owner=org.slug if org else "",
        domain=domain,
        url=url,
        backend=template.backend,
        image=template.image,
        internal_port=template.internal_port,
        health_path=template.health_path or "/",
        env=env,
        limits=limits,
        labels=instance_labels(
            key(instance),
            instance.subdomain,
            org.slug if org else "",
            domain,
            template.internal_port,
        ),
        template_settings=dict(template.settings or {}),
        external_id=instance.external_id,
        upstream=instance.upstream,
        admin_email=owner.email if owner else "",
        custom_domains=proven_domains(session, key(instance)),
        server=server_ref(session, instance.server_id),
    )


def proven_domains(session: Session, instance_id: int) -> tuple[str, ...]:
    rows = session.exec(
        select(col(Domain.hostname))
        .where(col(Domain.instance_id) == instance_id, col(Domain.verified_at).is_not(None))
        .order_by(col(Domain.id))
    ).all()
    return tuple(rows)


class LimitView(dict[str, Any]):
    """Missing limits render as empty strings instead of failing the whole template."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name, "")

    def __getitem__(self, name: str) -> Any:
        return self.get(name, "")
