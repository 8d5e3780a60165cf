"""One AI gateway key per instance whose plan includes AI models; shown to the instance through its environment."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services.keys.instance_keys import ensure, issue, revoke
from services.models import Instance, Plan
from services.models.base import key

SCOPE = "ai"
PREFIX = "sk-pgw-"
NAME = "ai gateway"  # "sk-": OpenAI clients and LiteLLM expect keys that look like this


def models_in(limits: dict[str, Any] | None) -> list[str]:
    """The models a plan's limits allow through the gateway (`ai_models`); none means no AI usage."""
    models = (limits or {}).get("ai_models")
    if not isinstance(models, list):
        return []
    return [m for m in models if isinstance(m, str) and m]


def plan_models(plan: Plan | None) -> list[str]:
    return models_in(plan.limits if plan else None)


def ensure_gateway_key(session: Session, instance: Instance, plan: Plan | None) -> str | None:
    """The instance's live gateway key, issued on first need; None (and any old key revoked) when the plan has no
    AI models, so a downgraded instance loses its key at its next deploy."""
    if not plan_models(plan):
        revoke(session, key(instance), SCOPE)
        return None
    return ensure(session, instance, SCOPE, PREFIX, NAME)


def rotate_gateway_key(session: Session, instance: Instance) -> str:
    return issue(session, instance, SCOPE, PREFIX, NAME)
