"""Container labels: who owns the instance, and the Traefik routers for its host (one template for all backends)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.config import get_settings

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), undefined=StrictUndefined)

LABEL_INSTANCE = "portal.instance-id"
LABEL_OWNER = "portal.owner"
LABEL_SUBDOMAIN = "portal.subdomain"


def resource_name(subdomain: str) -> str:
    return f"{get_settings().docker_name_prefix}{subdomain}"


def traefik_labels(router: str, domain: str, port: int, network: str) -> dict[str, str]:
    settings = get_settings()
    text = _env.get_template("traefik_labels.j2").render(
        router=router,
        domain=domain,
        port=port,
        network=network,
        cert_resolver=settings.traefik_cert_resolver,
        http_entrypoint=settings.traefik_http_entrypoint,
        https_entrypoint=settings.traefik_https_entrypoint,
    )
    return dict(line.split("=", 1) for line in text.splitlines() if line.strip())


def instance_labels(instance_id: int, subdomain: str, owner: str, domain: str, port: int) -> dict[str, str]:
    name = resource_name(subdomain)
    return {
        LABEL_INSTANCE: str(instance_id),
        LABEL_OWNER: owner,
        LABEL_SUBDOMAIN: subdomain,
        **traefik_labels(router=name, domain=domain, port=port, network=f"{name}-net"),
    }
