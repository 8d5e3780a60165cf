"""How a step failed decides what the engine does next (the classes live in services.errors, below every package
that raises them: the engine, placement, backups)."""

from __future__ import annotations

from services.errors import PermanentError, ProvisioningError

__all__ = ["PermanentError", "ProvisioningError"]
