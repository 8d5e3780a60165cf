"""How a step failed decides what the engine does next."""

from __future__ import annotations


class ProvisioningError(Exception):
    """A step failed for a reason that may pass (engine restarting, timeout): retried with backoff."""


class PermanentError(ProvisioningError):
    """Retrying cannot help until somebody fixes the cause (missing image, name collision): parked at once."""
