"""What the platform admin sees about third parties the portal drives (Coolify's version and health, the AI
gateway's)."""

from __future__ import annotations

from services.gateway.health import check_gateway
from services.health import check_coolify


def integration_status() -> list[dict[str, str]]:
    return [_coolify(), _gateway()]


def _coolify() -> dict[str, str]:
    coolify = check_coolify()
    if coolify is None:
        return {"name": "Coolify", "state": "not configured", "detail": "Set COOLIFY_URL and COOLIFY_TOKEN."}
    if coolify["ok"]:
        return {
            "name": "Coolify",
            "state": "healthy",
            "detail": f"version {coolify.get('version')} at {coolify['url']}",
        }
    return {"name": "Coolify", "state": "unreachable", "detail": str(coolify.get("error") or coolify["url"])}


def _gateway() -> dict[str, str]:
    gateway = check_gateway()
    if gateway is None:
        return {
            "name": "AI gateway",
            "state": "not configured",
            "detail": "Set AI_GATEWAY_URL and AI_GATEWAY_MASTER_KEY, then run make gateway.",
        }
    if gateway["ok"]:
        return {"name": "AI gateway", "state": "healthy", "detail": f"LiteLLM at {gateway['url']}"}
    return {"name": "AI gateway", "state": "unreachable", "detail": str(gateway.get("error") or gateway["url"])}
