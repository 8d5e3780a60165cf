"""Starts the AI gateway: LiteLLM's proxy from its own virtualenv, with the portal's hooks and a config made here.

`python -m services.gateway.launch [--port N]` (or `make gateway`). The models come from AI_GATEWAY_MODELS_FILE,
a LiteLLM config fragment with a `model_list:` (provider keys as `os.environ/NAME`), which LiteLLM itself includes;
without one, a demo list whose models answer with a fixed text and cost what LiteLLM's price table says, so
`make run` works offline. The config is written as JSON, which LiteLLM's YAML loader reads as it is."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from services.config import PROJECT_ROOT, Settings, get_settings
from services.gateway.cache import cache_location

GATEWAY_VENV = PROJECT_ROOT / ".venv-gateway"
HOOKS = "services.gateway.litellm_hooks.hooks"
DEMO_MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet")
DEMO_PROVIDER = {"gpt-4o-mini": "openai/gpt-4o-mini", "gpt-4o": "openai/gpt-4o"}


def demo_models(names: tuple[str, ...] = DEMO_MODELS) -> list[dict[str, Any]]:
    return [
        {
            "model_name": name,
            "litellm_params": {
                "model": DEMO_PROVIDER.get(name, "anthropic/claude-3-5-sonnet-20240620"),
                "api_key": "demo-not-a-real-key",
                "mock_response": "This is the demo gateway: no model was called.",
            },
        }
        for name in names
    ]


def gateway_config(models: list[dict[str, Any]] | str, *, hooks: bool = True) -> dict[str, Any]:
    """LiteLLM's config: the models (a list, or the path of a file LiteLLM includes), the master key from the
    environment and (unless `hooks` is False, for the benchmark's baseline) the portal's auth hook and usage
    callback."""
    config: dict[str, Any] = {
        **({"include": [models]} if isinstance(models, str) else {"model_list": models}),
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
        "litellm_settings": {"telemetry": False, "drop_params": True},
    }
    if hooks:
        config["general_settings"]["custom_auth"] = f"{HOOKS}.user_api_key_auth"
        config["litellm_settings"]["callbacks"] = [f"{HOOKS}.usage_logger"]
    return config


def gateway_env(var_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment LiteLLM's process needs to find the portal, its cache and its spool.

    The portal's own settings are left out: the gateway has no business with the portal's database, secret key or
    Stripe keys, and LiteLLM would take DATABASE_URL as its own (and refuse SQLite). Everything else passes, so
    the providers' keys a model list names (`os.environ/OPENAI_API_KEY`) reach it."""
    settings = get_settings()
    portal_own = {name.upper() for name in Settings.model_fields}
    inherited = {k: v for k, v in (base if base is not None else os.environ).items() if k.upper() not in portal_own}
    return {
        **inherited,
        "PYTHONPATH": str(PROJECT_ROOT),
        "LITELLM_MASTER_KEY": settings.ai_gateway_master_key,
        "PORTAL_INTERNAL_URL": settings.internal_url,
        "PORTAL_GATEWAY_SPOOL": str(var_dir / "gateway" / "spool.sqlite3"),
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # the price table shipped with LiteLLM: nothing fetched at start
        "DISABLE_SCHEMA_UPDATE": "True",
        **cache_location(),
    }


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path


def command(config: Path, host: str, port: int) -> list[str]:
    return [str(GATEWAY_VENV / "bin" / "litellm"), "--config", str(config), "--host", host, "--port", str(port)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    args = parser.parse_args()
    settings = get_settings()
    if not settings.ai_gateway_master_key:
        sys.exit("AI_GATEWAY_MASTER_KEY is not set: the gateway's admin and its usage reports need it.")
    models = str(Path(settings.ai_gateway_models_file).resolve()) if settings.ai_gateway_models_file else demo_models()
    config = write_config(settings.var_dir / "gateway" / "config.yaml", gateway_config(models))
    argv = command(config, args.host, args.port)
    os.execve(argv[0], argv, gateway_env(settings.var_dir))


if __name__ == "__main__":
    main()
