"""What the platform admin sees about third parties the portal drives (Coolify's version and health)."""

from __future__ import annotations

from services.health import check_coolify


def integration_status() -> list[dict[str, str]]:
    coolify = check_coolify()
    if coolify is None:
        return [{"name": "Coolify", "state": "not configured", "detail": "Set COOLIFY_URL and COOLIFY_TOKEN."}]
    if coolify["ok"]:
        return [
            {"name": "Coolify", "state": "healthy", "detail": f"version {coolify.get('version')} at {coolify['url']}"}
        ]
    return [{"name": "Coolify", "state": "unreachable", "detail": str(coolify.get("error") or coolify["url"])}]
