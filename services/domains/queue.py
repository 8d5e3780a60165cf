"""How claims reach the job queue without knowing it: services/domains/tasks.py connects its jobs here on import
(as the provisioning engine is connected), so the claims never import the jobs that import the checks."""

from __future__ import annotations

from collections.abc import Callable


class _Jobs:
    check: Callable[[int], object] | None = None
    refresh: Callable[[int | None, int], object] | None = None


def use_queue(check: Callable[[int], object], refresh: Callable[[int | None, int], object]) -> None:
    _Jobs.check, _Jobs.refresh = check, refresh


def check_soon(domain_id: int) -> None:
    """Queue a look at the domain now; without a queue (a bare script) the minute's due checks take it."""
    if _Jobs.check is not None:
        _Jobs.check(domain_id)


def refresh_soon(instance_id: int | None, organization_id: int) -> None:
    """Queue an edge refresh; without a queue the reconciler's regeneration puts the edge right within a minute."""
    if _Jobs.refresh is not None:
        _Jobs.refresh(instance_id, organization_id)
