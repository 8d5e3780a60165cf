"""What the checkout return page shows while the webhook and provisioning do their work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from services.db import session_scope
from services.models import Instance, Subscription
from services.provisioning.urls import instance_url


@dataclass(frozen=True)
class CheckoutProgress:
    subscription_status: str
    instance_status: str
    instance_url: str


def checkout_progress(checkout_session_id: str) -> CheckoutProgress | None:
    """Looked up by the checkout session id (unguessable, from Stripe's redirect); shows no secrets."""
    if not checkout_session_id:
        return None
    with session_scope() as session:
        subscription = session.exec(
            select(Subscription).where(col(Subscription.checkout_session_id) == checkout_session_id)
        ).first()
        if subscription is None:
            return None
        instance = session.exec(select(Instance).where(col(Instance.subscription_id) == subscription.id)).first()
        return CheckoutProgress(
            subscription_status=subscription.status,
            instance_status=instance.status if instance else "",
            instance_url=instance_url(instance.subdomain, instance.backend, instance.upstream) if instance else "",
        )
