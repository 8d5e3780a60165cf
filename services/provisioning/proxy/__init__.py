"""The edge in front of instances whose backend gives the portal a host:port (the Docker backend).

Caddy (HTTPS with certificates on demand, driven through its admin API), nginx (plain HTTP vhost files, tested
with `nginx -t` before they replace anything) or nothing; see base.py for what each of them does.
"""

from __future__ import annotations

import shutil

from services.config import get_settings
from services.provisioning.proxy.base import NoProxy, Proxy, Route
from services.provisioning.proxy.caddy import CaddyProxy
from services.provisioning.proxy.nginx import NginxProxy

__all__ = ["NoProxy", "Proxy", "Route", "chosen_backend", "get_proxy"]


def chosen_backend() -> str:
    """PROXY_BACKEND, with `auto` resolved: Caddy when installed (HTTPS), else nginx, else none."""
    settings = get_settings()
    choice = settings.proxy_backend
    if choice == "auto":
        if shutil.which(settings.caddy_bin):
            return "caddy"
        return "nginx" if shutil.which(settings.nginx_bin) else "none"
    return choice


def get_proxy() -> Proxy:
    choice = chosen_backend()
    if choice == "caddy":
        return CaddyProxy()
    if choice == "nginx":
        return NginxProxy()
    return NoProxy()
