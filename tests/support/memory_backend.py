"""An in-memory backend to test the engine's own rules (resume, backoff, leases) without a Docker engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from services.models import AppTemplate, Instance
from services.provisioning import engine
from services.provisioning.backends.base import QUICK_HEALTH_PACING, Placement
from services.provisioning.spec import InstanceSpec
from tests.support.factories import customer_instance


@dataclass
class MemoryBackend:
    """Counts what exists; fails on demand. Stands in for a backend only to test the engine's own rules."""

    health_pacing = QUICK_HEALTH_PACING

    name: str = "memory"
    containers: dict[str, str] = field(default_factory=dict)
    fail: dict[str, list[Exception]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def _maybe_fail(self, method: str) -> None:
        self.calls.append(method)
        if self.fail.get(method):
            raise self.fail[method].pop(0)

    def prepare(self, spec: InstanceSpec) -> None:
        self._maybe_fail("prepare")

    def create(self, spec: InstanceSpec) -> Placement:
        self._maybe_fail("create")
        self.containers.setdefault(spec.subdomain, "created")
        return Placement(external_id=spec.subdomain, upstream=None)

    def deploy(self, spec: InstanceSpec) -> Placement:
        self._maybe_fail("deploy")
        self.containers[spec.subdomain] = "running"
        return Placement(external_id=spec.subdomain, upstream=None)

    start = deploy

    def restart(self, spec: InstanceSpec) -> Placement:
        return self.deploy(spec)

    def stop(self, spec: InstanceSpec) -> None:
        self._maybe_fail("stop")
        self.containers[spec.subdomain] = "stopped"

    def status(self, spec: InstanceSpec) -> str:
        return self.containers.get(spec.subdomain, "missing")

    def health(self, spec: InstanceSpec, upstream: str | None) -> bool:
        return self.containers.get(spec.subdomain) == "running"

    def logs(self, spec: InstanceSpec, lines: int = 100) -> str:
        return ""

    def stats(self, spec: InstanceSpec) -> dict[str, float]:
        return {}

    def destroy(self, spec: InstanceSpec) -> None:
        self._maybe_fail("destroy")
        self.containers.pop(spec.subdomain, None)


def memory_instance(db: Session, name: str) -> Instance:
    instance = customer_instance(db, name)
    template = db.get(AppTemplate, instance.app_template_id)
    template.backend = "memory"  # type: ignore[union-attr]
    db.add(template)
    db.commit()
    return instance


def request(db: Session, instance: Instance, action: str) -> str:
    row = engine.request_action(db, instance, action)
    db.commit()
    return row.id
