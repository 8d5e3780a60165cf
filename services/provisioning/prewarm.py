"""Paid instances are prepared while their checkout is open, so that payment only has to start them.

A customer spends seconds to minutes on the checkout page; creating the network, the volume and the container
(not started) meanwhile takes the slowest part out of the time between payment and a working instance. It is
bounded (PROVISION_PREWARM_MAX prepared-but-unpaid instances at a time, so sign-ups that never pay cannot use up
the engine's networks) and undone for checkouts abandoned longer than PROVISION_PREWARM_RELEASE_HOURS.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.config import get_settings
from services.models import Instance, ProvisioningAction
from services.models.base import key, utcnow
from services.provisioning import actions, engine

AWAITING = "awaiting_payment"


def _prepared_unpaid(session: Session) -> int:
    prepared = session.exec(
        select(func.count())
        .select_from(Instance)
        .where(col(Instance.status) == AWAITING, col(Instance.external_id).is_not(None))
    ).one()
    preparing = session.exec(
        select(func.count())
        .select_from(ProvisioningAction)
        .where(
            col(ProvisioningAction.action) == actions.PREPARE,
            col(ProvisioningAction.status).in_(actions.ACTIVE_STATUSES),
        )
    ).one()
    return int(prepared) + int(preparing)


def prepare_for_checkout(session: Session, instance: Instance) -> bool:
    """Queue PREPARE for an instance whose checkout just opened; False when switched off or at the bound."""
    settings = get_settings()
    if not settings.provision_prewarm or instance.status != AWAITING or instance.id is None:
        return False
    if engine.active_action(session, instance.id) is not None:
        return False
    if _prepared_unpaid(session) >= settings.provision_prewarm_max:
        return False
    engine.request_action(session, instance, actions.PREPARE, requested_by="checkout")
    return True


def release_abandoned(session: Session) -> int:
    """Queue RELEASE for prepared instances whose checkout was left unpaid too long."""
    cutoff = utcnow() - timedelta(hours=get_settings().provision_prewarm_release_hours)
    stale = session.exec(
        select(Instance).where(
            col(Instance.status) == AWAITING,
            col(Instance.external_id).is_not(None),
            col(Instance.updated_at) < cutoff,
        )
    ).all()
    released = 0
    for instance in stale:
        if engine.active_action(session, key(instance)) is None:
            engine.request_action(session, instance, actions.RELEASE, requested_by="abandoned checkout")
            released += 1
    return released
