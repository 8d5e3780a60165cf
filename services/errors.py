"""Errors that carry a message meant for the person who caused them (shown next to the field)."""

from __future__ import annotations

from services.i18n.message import say


class ValidationFailed(Exception):
    """Bad input: nothing was changed. `errors` maps a form field ("" for the whole form) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in errors.items()))
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: message})


class RateLimited(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        self.message = say(
            "Too many attempts. Please wait {seconds} seconds and try again.", seconds=self.retry_after_seconds
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message  # the Message itself, so a page shows it in its own language


class ProvisioningError(Exception):
    """A provisioning step failed for a reason that may pass (engine restarting, timeout): retried with backoff.
    Here rather than in services.provisioning so what the steps call (placement, backups) can raise it too."""


class PermanentError(ProvisioningError):
    """Retrying cannot help until somebody fixes the cause (missing image, name collision): parked at once."""
