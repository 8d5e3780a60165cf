"""Driving the provisioning engine by hand: the scheduling captured, retries followed without waiting."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.provisioning import engine
from services.provisioning.proxy.nginx import NginxProxy
from tests.support.docker_env import Dockerd


@dataclass
class Scheduled:
    """The engine's scheduling, captured so a test can drive retries itself (no queue in between)."""

    calls: list[tuple[str, float]] = field(default_factory=list)

    def __call__(self, action_id: str, delay: float) -> None:
        self.calls.append((action_id, delay))


@dataclass
class Provisioning:
    dockerd: Dockerd
    proxy: NginxProxy
    proxy_port: int
    scheduled: Scheduled

    def run(self, action_id: str, max_rounds: int = 10) -> str:
        """Execute the action like the queue would, following its retries (without waiting out the backoff)."""
        retry_due_now(action_id)
        status = engine.execute(action_id)
        rounds = 1
        while status == "retrying" and rounds < max_rounds:
            retry_due_now(action_id)
            status = engine.execute(action_id)
            rounds += 1
        return status


def retry_due_now(action_id: str) -> None:
    """Skip the rest of a backoff, as if its time had come: the engine runs a retrying action only when due."""
    from sqlmodel import col, update

    from services.db import session_scope
    from services.models import ProvisioningAction
    from services.models.base import utcnow

    with session_scope() as session:
        session.exec(
            update(ProvisioningAction)
            .where(col(ProvisioningAction.id) == action_id, col(ProvisioningAction.status) == "retrying")
            .values(next_attempt_at=utcnow())
        )
