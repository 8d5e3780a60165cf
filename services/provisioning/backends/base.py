"""The one interface every backend implements. The engine calls only these, so it never knows which it drives.

Every method is idempotent: calling it again after a crash, or twice, ends in the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.provisioning.spec import InstanceSpec

# What status() reports. "missing" means the backend has nothing for this instance; "unknown" that it could not tell.
OBSERVED_STATES = ("running", "stopped", "restarting", "missing", "failed", "unknown")


@dataclass(frozen=True)
class Placement:
    """Where the instance ended up: its backend id and, where the portal proxies to it, host:port."""

    external_id: str | None
    upstream: str | None


# The health wait's first delay, growth and longest delay (seconds). Most containers answer within tens of
# milliseconds; a backend whose every look costs an API call of a budget polls slower.
QUICK_HEALTH_PACING = (0.01, 1.5, 0.25)


class Backend(Protocol):
    name: str

    @property
    def health_pacing(self) -> tuple[float, float, float]: ...

    def prepare(self, spec: InstanceSpec) -> Placement | None:
        """Create what the instance lives in (network, volume, environment); a Placement when it has an id."""

    def create(self, spec: InstanceSpec) -> Placement:
        """Make the instance exist with exactly this configuration, without running it (prepared before payment)."""

    def deploy(self, spec: InstanceSpec) -> Placement:
        """Make the instance exist with exactly this configuration and run it."""

    def start(self, spec: InstanceSpec) -> Placement: ...

    def stop(self, spec: InstanceSpec) -> None: ...

    def restart(self, spec: InstanceSpec) -> Placement: ...

    def status(self, spec: InstanceSpec) -> str:
        """running | stopped | failed | missing | unknown. Reads only the spec's identity (instance id, subdomain,
        external id): the reconciliation passes `identity_spec`s, not whole ones."""
        ...

    def health(self, spec: InstanceSpec, upstream: str | None) -> bool: ...

    def logs(self, spec: InstanceSpec, lines: int = 100) -> str: ...

    def stats(self, spec: InstanceSpec) -> dict[str, float]: ...

    def destroy(self, spec: InstanceSpec) -> None:
        """Remove everything that belongs to the instance, and nothing that does not."""
