"""The secret webhooks are signed with: Stripe's endpoint secret, or a local one for test mode."""

from __future__ import annotations

from services.config import generated_secret, get_settings


def webhook_secrets() -> list[str]:
    """Every secret a delivery may be signed with: the platform's endpoint, and its Connect endpoint (Stripe signs
    the events of connected accounts with that endpoint's own secret)."""
    connect = get_settings().stripe_connect_webhook_secret
    return [webhook_secret(), *([connect] if connect else [])]


def webhook_secret() -> str:
    settings = get_settings()
    if settings.stripe_webhook_secret:
        return settings.stripe_webhook_secret
    if settings.stripe_secret_key:
        raise RuntimeError("STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is")
    return generated_secret(settings.var_dir, "stripe_local_webhook_secret", prefix="whsec_local_")
