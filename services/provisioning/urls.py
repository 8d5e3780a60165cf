"""How an instance's link is written, so that the URL the portal shows (dashboard, checkout return, welcome
e-mail, the instance's own URL variable) is the URL that serves it.

Docker instances are reached through the edge the portal drives: Caddy (https, with its port when it is not 443),
nginx (http, with its port when it is not 80), or, with no edge at all, the container's published port. Coolify
serves its applications over HTTPS itself. INSTANCE_SCHEME / INSTANCE_PORT override all of it for an edge the
portal does not drive (a load balancer or Traefik in front).
"""

from __future__ import annotations

from services.config import get_settings
from services.provisioning.proxy import get_proxy
from services.provisioning.proxy.base import connect_address, with_port


def instance_url(subdomain: str, backend: str = "docker", upstream: str | None = None) -> str:
    return host_url(get_settings().instance_domain(subdomain), backend, upstream)


def host_url(host: str, backend: str = "docker", upstream: str | None = None) -> str:
    settings = get_settings()
    if settings.instance_scheme or settings.instance_port:
        return with_port(settings.instance_scheme or "https", host, settings.instance_port)
    if backend != "docker":
        return f"https://{host}"
    proxy = get_proxy()
    if proxy.name == "none":  # nothing in front: the container's own published port, on this machine
        return f"http://{connect_address(upstream)}" if upstream else f"https://{host}"
    return proxy.url_for(host)
