"""The portal's two hooks in LiteLLM: who a key is and what it may do (`user_api_key_auth`, LiteLLM's
`general_settings.custom_auth`), and what each request cost (`usage_logger`, a `litellm_settings.callbacks`
entry).

LiteLLM has no key database here (it would need Prisma engines downloaded at run time), and without one it
does not enforce the `models` or budget fields a custom auth returns; so this hook refuses itself: an unknown or
revoked key, a suspended instance, a model outside the plan, a budget used up under `block` or `suspend`, and
more requests or tokens per minute than the plan allows. It reads the key's rules from the portal's cache, never
the portal's database, and adds what this gateway has spent but not yet reported, so the request after the one
that crosses 100 % is refused even before the portal has counted it."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import litellm
from fastapi import Request
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import ProxyException, UserAPIKeyAuth
from litellm.proxy.common_utils.http_parsing_utils import _read_request_body

from .limits import MinuteCounters
from .policy_cache import PolicyReader
from .settings import HookSettings
from .spool import Spool

log = logging.getLogger("portal_gateway")
SETTINGS = HookSettings.from_env()
POLICIES = PolicyReader(SETTINGS.redis_url, SETTINGS.prefix, SETTINGS.cache_dir)
SPOOL = Spool(SETTINGS.spool, SETTINGS.portal_url, SETTINGS.secret, SETTINGS.flush_seconds)
COUNTERS = MinuteCounters()
KEY_PREFIX = "sk-pgw-"
# What an instance's key may call: the model API, and the list of models. Everything else LiteLLM serves (its key,
# model, config and spend management, pass-through routes to providers, files and batches) is refused to it.
MODEL_ROUTES = ("/chat/completions", "/completions", "/embeddings", "/responses", "/messages")
LIST_ROUTES = ("/models",)
# Request fields that would reach a model or a provider the plan does not name (LiteLLM's request-level fallbacks,
# a caller's own endpoint or credentials): refused rather than trusted to LiteLLM's settings.
FORBIDDEN_FIELDS = frozenset(
    {
        "fallbacks",
        "context_window_fallbacks",
        "content_policy_fallbacks",
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "user_config",
    }
)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _refuse(message: str, code: int, kind: str = "auth_error", headers: dict[str, str] | None = None) -> None:
    raise ProxyException(message=message, type=kind, param=None, code=code, headers=headers)


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    if SETTINGS.secret and hmac.compare_digest(api_key.encode(), SETTINGS.secret.encode()):
        return UserAPIKeyAuth(api_key=api_key, user_role="proxy_admin", key_alias="portal-master")
    if not api_key.startswith(KEY_PREFIX):
        _refuse("Invalid gateway key.", 401)
    key_hash = _hash(api_key)
    policy = await POLICIES.read(key_hash)
    if policy is None:
        _refuse("Invalid gateway key: it is unknown or was revoked.", 401)
    assert policy is not None
    if policy["state"] != "active":
        if policy["state"] == "blocked" and "budget" in policy["reason"]:
            _refuse(f"Budget exceeded: {policy['reason']}.", litellm.budget_exceeded_status_code, "budget_exceeded")
        _refuse(f"This key cannot be used now: {policy['reason']}.", 403)
    total = policy.get("total_micros")
    if policy["budget_policy"] in ("block", "suspend") and total is not None:
        spent = policy["used_micros"] + SPOOL.uncounted_micros(key_hash, float(policy.get("written_at") or 0))
        if spent >= total:
            _refuse(
                "Budget exceeded: the budget for this period is used up; it resets with the next period or a "
                "plan change.",
                litellm.budget_exceeded_status_code,
                "budget_exceeded",
            )
    path = request.url.path.rstrip("/")
    if any(path.endswith(route) for route in MODEL_ROUTES):
        body = await _read_request_body(request)
        model = body.get("model") if isinstance(body, dict) else None
        if model not in policy["models"]:
            allowed = ", ".join(policy["models"]) or "none"
            _refuse(f"The model {model!r} is not in this instance's plan (allowed: {allowed}).", 403)
        named = sorted(FORBIDDEN_FIELDS.intersection(body)) if isinstance(body, dict) else []
        if named:
            _refuse(f"These request fields are not allowed through the platform's gateway: {', '.join(named)}.", 400)
    elif not any(path.endswith(route) for route in LIST_ROUTES):
        _refuse("This key may only call the model API (chat, completions, embeddings, responses, messages).", 403)
    waiting = COUNTERS.refusal(key_hash, policy.get("rpm"), policy.get("tpm"))
    if waiting is not None:
        reason, seconds = waiting
        _refuse(f"Rate limit: {reason}.", 429, "rate_limit_error", {"Retry-After": str(seconds)})
    return UserAPIKeyAuth(
        api_key=api_key,
        key_alias=f"instance-{policy['instance_id']}",
        metadata={"portal_instance_id": policy["instance_id"], "portal_key_hash": key_hash},
        models=policy["models"],
    )


def _micros(cost: object) -> int:
    try:
        return max(0, int((Decimal(str(cost)) * 1_000_000).to_integral_value()))
    except ArithmeticError:
        return 0


def _instance(auth: UserAPIKeyAuth | dict[str, Any] | None) -> tuple[int, str] | None:
    metadata = (auth.metadata if isinstance(auth, UserAPIKeyAuth) else (auth or {}).get("metadata")) or {}
    instance_id, key_hash = metadata.get("portal_instance_id"), metadata.get("portal_key_hash")
    return (instance_id, key_hash) if isinstance(instance_id, int) and isinstance(key_hash, str) else None


def _record(call_id: str, owner: tuple[int, str], model: str, tokens_in: int, tokens_out: int, cost: object) -> None:
    micros = _micros(cost)
    SPOOL.add(
        call_id,
        owner[1],
        micros,
        {
            "id": call_id,
            "instance_id": owner[0],
            "model": model[:100] or "unknown",
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost": str(Decimal(micros) / 1_000_000),
            "occurred_at": datetime.now(UTC).isoformat(),
        },
    )
    COUNTERS.add_tokens(owner[1], tokens_in + tokens_out)


class PortalUsageLogger(CustomLogger):
    """Each call's cost, written to the spool before the response leaves the gateway (a non-streamed call), and
    again from the success log for every call (streamed ones included): the call id keeps it once."""

    def __init__(self) -> None:
        super().__init__()
        SPOOL.start()

    async def async_post_call_success_hook(
        self, data: dict[str, Any], user_api_key_dict: UserAPIKeyAuth, response: Any
    ) -> Any:
        owner = _instance(user_api_key_dict)
        hidden = getattr(response, "_hidden_params", None) or {}
        usage = getattr(response, "usage", None)
        call_id = data.get("litellm_call_id")
        if owner is None or not call_id or hidden.get("response_cost") is None:
            return None
        _record(
            call_id,
            owner,
            str(data.get("model") or ""),
            int(getattr(usage, "prompt_tokens", 0) or 0),
            int(getattr(usage, "completion_tokens", 0) or 0),
            hidden["response_cost"],
        )
        return None

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        payload = kwargs.get("standard_logging_object") or {}
        metadata = payload.get("metadata") or {}
        owner = _instance({"metadata": metadata.get("user_api_key_auth_metadata") or {}})
        call_id = kwargs.get("litellm_call_id")
        if owner is None or not call_id:
            return
        _record(
            call_id,
            owner,
            str(payload.get("model_group") or payload.get("model") or ""),
            int(payload.get("prompt_tokens") or 0),
            int(payload.get("completion_tokens") or 0),
            payload.get("response_cost") or 0,
        )


usage_logger = PortalUsageLogger()
