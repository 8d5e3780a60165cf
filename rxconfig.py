"""Reflex configuration. Ports, database and Redis come from the environment (see .env.example)."""

import os

import reflex as rx

from portal.paint_first import PaintFirstPlugin
from services.config import get_settings

_port = int(os.environ.get("PORT", "3000"))

config = rx.Config(
    app_name="portal",
    frontend_port=_port,
    backend_port=_port,
    telemetry_enabled=False,
    show_built_with_reflex=False,  # white-label: resellers sell this under their own brand
    default_color_mode="system",
    # behind nginx or a load balancer: how many X-Forwarded-For hops to trust for the client's address, so
    # per-IP limits count people, not the proxy (TRUSTED_PROXY_HOPS, the same setting our own routes read)
    trusted_proxy_hops=get_settings().trusted_proxy_hops,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")),
        PaintFirstPlugin(),  # prerendered pages paint before their scripts load (portal/paint_first.py)
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
