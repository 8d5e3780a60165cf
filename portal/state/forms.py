"""What every form handler does with a refused input: errors go next to their fields, nothing else changes."""

from __future__ import annotations

import logging

from services.errors import RateLimited, ValidationFailed

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. Nothing was changed; please try again in a moment."


def errors_from(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationFailed):
        return exc.errors
    if isinstance(exc, RateLimited | PermissionError):  # PermissionError: a refused access, its message is safe
        return {"": str(exc)}
    log.exception("unexpected error in a form handler", exc_info=exc)
    return {"": UNEXPECTED}
