"""The edge's side of a claimed domain: route it once proven (and stop once not), and see it served.

A Docker instance's domains are routed by the edge the portal drives (services/provisioning/proxy); a Coolify
instance's domains are set in its application and deployed through the provisioning engine (update_domains),
with Coolify's own proxy getting the certificate; a seller's portal domains are routed to the portal itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import col, select

from services.db import session_scope
from services.models import DomainStatus, Instance, ProvisioningAction
from services.models.base import key
from services.provisioning import actions, engine
from services.provisioning.errors import ProvisioningError
from services.provisioning.operations import refresh_instance_route, refresh_portal_hosts
from services.provisioning.proxy import get_proxy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdgeState:
    status: str
    message: str


def refresh_edge(instance_id: int | None, organization_id: int) -> None:
    """Make the edge route exactly the proven domains of this instance (or the sellers' portal domains)."""
    try:
        with session_scope() as session:
            if instance_id is None:
                refresh_portal_hosts(session)
                return
            instance = session.get(Instance, instance_id)
            if instance is None:
                return
            if instance.backend == "docker":
                refresh_instance_route(session, instance_id)
            elif instance.status == "running":
                engine.request_action(session, instance, actions.UPDATE_DOMAINS, requested_by="domains")
    except ProvisioningError as exc:  # the reconciler's regeneration puts it right within a minute
        log.warning("the edge could not be updated for organization %s: %s", organization_id, exc)


def served_state(hostname: str, instance: Instance | None) -> EdgeState:
    """Where a proven domain stands at the edge: certificate issued? does the instance (or portal) answer?"""
    if instance is not None and instance.backend != "docker":
        return _coolify_state(key(instance))
    answer = get_proxy().probe(hostname, "/")
    if answer.certificate is False:
        return EdgeState(DomainStatus.VERIFIED, f"Proven. The certificate is not issued yet: {answer.error}")
    if answer.status is None:
        return EdgeState(DomainStatus.VERIFIED, f"Proven, but {answer.error}.")
    if answer.status >= 500:
        reached = DomainStatus.CERTIFICATE if answer.certificate else DomainStatus.VERIFIED
        return EdgeState(reached, f"The edge answers, but the instance does not yet (HTTP {answer.status}).")
    return EdgeState(DomainStatus.SERVING, "")


def _coolify_state(instance_id: int) -> EdgeState:
    with session_scope() as session:
        latest = session.exec(
            select(ProvisioningAction)
            .where(
                col(ProvisioningAction.instance_id) == instance_id,
                col(ProvisioningAction.action) == actions.UPDATE_DOMAINS,
            )
            .order_by(col(ProvisioningAction.created_at).desc())
        ).first()
        if latest is None or latest.status in actions.ACTIVE_STATUSES:
            return EdgeState(DomainStatus.VERIFIED, "Proven. Coolify is deploying the instance with it.")
        if latest.status == "succeeded":
            return EdgeState(DomainStatus.SERVING, "")
        return EdgeState(DomainStatus.VERIFIED, f"Proven, but Coolify has not taken it: {latest.last_error or ''}")
