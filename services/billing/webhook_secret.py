"""The secret webhooks are signed with: Stripe's endpoint secret, or a local one for test mode."""

from __future__ import annotations

import secrets

from services.config import get_settings


def webhook_secret() -> str:
    settings = get_settings()
    if settings.stripe_webhook_secret:
        return settings.stripe_webhook_secret
    if settings.stripe_secret_key:
        raise RuntimeError("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is")
    path = settings.var_dir / "stripe_local_webhook_secret"
    if path.exists():
        return path.read_text().strip()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    value = "whsec_local_" + secrets.token_hex(24)
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(value)
        path.chmod(0o600)
    except FileExistsError:
        return path.read_text().strip()
    return value
