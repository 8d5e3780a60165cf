"""Rules Coolify enforces only in its code (CONTRACTS.md §1.4), checked before we send anything."""

from __future__ import annotations

import re

# bootstrap/helpers/api.php sharedDataApplications(): build/start/compose commands must match this.
SHELL_SAFE_COMMAND = re.compile(
    r"""^(?:[ \t]+|&&|\|\||"[^"$`\\\n\r]*"|'[^'\n\r]*'|[a-zA-Z0-9._\-/=:@,+\[\]{}#%^~*?!]+)+$"""
)
ENVIRONMENT_NAME = re.compile(r"^[\w\s\-_.@/&()#,:+]{3,255}$", re.UNICODE)
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
COMPOSE_LOCATION = re.compile(r"^/[a-zA-Z0-9._\-/~@+]+$")
STATES = {
    "running": "running",
    "starting": "restarting",
    "restarting": "restarting",
    "exited": "stopped",
    "paused": "stopped",
    "degraded": "failed",
}


def shell_safe(command: str) -> bool:
    return len(command) <= 1000 and bool(SHELL_SAFE_COMMAND.match(command))


def parse_status(raw: str | None) -> tuple[str, str]:
    """`"<state>:<health>"` to (our state, health). An unknown state is "unknown", never an error."""
    state, _, health = (raw or "").partition(":")
    return STATES.get(state.strip(), "unknown"), (health.strip() or "unknown")
