"""Restart, stop and start from the dashboard, the logs on demand, the initial login once, the usage token.

Each call first proves the instance is the user's own (services/customer/scope.py). The actions themselves go
through the provisioning engine like any other, so a click is recorded, retried and visible step by step.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from services import audit
from services.config import get_settings
from services.customer.scope import own_instance, refuse_while_busy, requested_by
from services.errors import ValidationFailed
from services.gateway.keys import plan_models, rotate_gateway_key
from services.i18n.catalog import N_
from services.i18n.message import say
from services.keys.usage_tokens import issue_instance_token
from services.models import Instance, Plan, Subscription
from services.models.base import key
from services.provisioning import actions, engine
from services.provisioning.backends import get_backend
from services.provisioning.credentials import replace_secret, reveal_once
from services.provisioning.errors import ProvisioningError
from services.provisioning.spec import build_spec
from services.provisioning.wording import ACTION_LABELS, status_said
from services.tenancy.scope import Customer

CONTROLS = {"restart": actions.RESTART, "stop": actions.STOP, "start": actions.START}
# which control makes sense in which status; anything else is refused with the reason
ALLOWED_IN: dict[str, tuple[str, ...]] = {
    "restart": ("running", "error", "unknown"),
    "stop": ("running", "error", "unknown", "restarting"),
    "start": ("stopped", "error", "unknown"),
}
LOG_LINES = 100
LOGS_UNAVAILABLE = "The logs cannot be read right now ({}). Please try again in a moment."


def controls_for(instance: Instance, busy: bool, subscription_status: str) -> dict[str, bool]:
    """Which buttons the dashboard enables: none while an action runs or the subscription holds the instance."""
    usable = (
        not busy and subscription_status in ("active", "trialing", "past_due") and instance.desired_state != "suspended"
    )
    return {control: usable and instance.status in ALLOWED_IN[control] for control in CONTROLS}


def control_instance(session: Session, who: Customer | None, instance_id: int, control: str, ip: str = "") -> str:
    """Queue the action; returns its id. Refusals (busy, wrong state, suspended) change nothing."""
    if control not in CONTROLS:
        raise ValidationFailed.single("", say("Unknown action {control!r}.", control=control))
    instance = own_instance(session, who, instance_id, capability="instances", attempted=f"instance.{control}", ip=ip)
    assert who is not None
    subscription = session.get(Subscription, instance.subscription_id) if instance.subscription_id else None
    refuse_while_busy(session, instance)
    if not controls_for(instance, False, subscription.status if subscription else "")[control]:
        if instance.desired_state == "suspended":
            raise ValidationFailed.single("", N_("Your instance is suspended. Settle the payment or the budget first."))
        raise ValidationFailed.single(
            "",
            say(
                "{action} is not possible now (your instance's status: {status}).",
                action=say(ACTION_LABELS[control]),
                status=status_said(instance),
            ),
        )
    row = engine.request_action(session, instance, CONTROLS[control], requested_by=requested_by(who))
    audit.record(
        session,
        f"instance.{control}",
        **who.audit_fields(),
        target=("instance", instance.id),
        organization_id=instance.organization_id,
        ip=ip,
        details={"subdomain": instance.subdomain},
    )
    return row.id


def instance_logs(session: Session, who: Customer | None, instance_id: int, lines: int = LOG_LINES) -> str:
    instance = own_instance(session, who, instance_id, capability="view", attempted="instance.logs")
    try:
        spec = build_spec(session, instance)
        text = get_backend(spec.backend).logs(spec, max(1, min(lines, 1000)))
    except ProvisioningError as exc:
        return LOGS_UNAVAILABLE.format(str(exc).rstrip("."))
    return text or "The instance has not written anything to its log yet."


def reveal_credentials(session: Session, who: Customer | None, instance_id: int) -> dict[str, str] | None:
    """The generated initial login, the first time only; None once it has been shown."""
    instance = own_instance(session, who, instance_id, capability="secrets", attempted="instance.credentials")
    assert who is not None
    shown = reveal_once(session, instance)
    if shown is not None:
        audit.record(
            session,
            "instance.credentials_shown",
            **who.audit_fields(),
            target=("instance", instance.id),
            organization_id=instance.organization_id,
        )
    return shown


def rotate_usage_token(session: Session, who: Customer | None, instance_id: int, ip: str = "") -> str:
    """A new usage API token for the instance, shown once; the previous one stops working at once."""
    return _rotate(session, who, instance_id, ip, "token", issue_instance_token)


def rotate_ai_gateway_key(session: Session, who: Customer | None, instance_id: int, ip: str = "") -> str:
    """A new AI gateway key, shown once; the gateway refuses the previous one within a second."""

    def issue(session: Session, instance: Instance) -> str:
        subscription = session.get(Subscription, instance.subscription_id) if instance.subscription_id else None
        if not get_settings().ai_gateway_url or not plan_models(
            session.get(Plan, subscription.plan_id) if subscription else None
        ):
            raise ValidationFailed.single("", N_("Your plan does not include AI models, so there is no gateway key."))
        return rotate_gateway_key(session, instance)

    return _rotate(session, who, instance_id, ip, "gateway_key", issue)


RESETTABLE = ("running", "error", "unknown")


def reset_admin_password(session: Session, who: Customer | None, instance_id: int, ip: str = "") -> str:
    """A new generated admin password for the instance's app, applied by redeploying it with the new environment
    (the app reads ADMIN_PASSWORD at start), shown once. Refused while another action runs or the instance is not
    running, since the password would then not reach the app."""

    def issue(session: Session, instance: Instance) -> str:
        if instance.status not in RESETTABLE:
            raise ValidationFailed.single(
                "", N_("Start your instance first: the new password is applied as it starts.")
            )
        refuse_while_busy(session, instance)
        return replace_secret(session, instance, "admin_password")

    return _rotate(session, who, instance_id, ip, "admin_password", issue)


def _rotate(
    session: Session,
    who: Customer | None,
    instance_id: int,
    ip: str,
    what: str,
    issue: Callable[[Session, Instance], str],
) -> str:
    """Issue the new secret, then redeploy a running instance so its environment carries it (the old one no
    longer works, so an instance left on it would fail); audited without the secret."""
    instance = own_instance(session, who, instance_id, capability="secrets", attempted=f"instance.rotate_{what}", ip=ip)
    assert who is not None
    secret = issue(session, instance)
    if instance.status in ("running", "error", "unknown") and engine.active_action(session, key(instance)) is None:
        engine.request_action(session, instance, actions.APPLY_LIMITS, requested_by=requested_by(who))
    audit.record(
        session,
        f"instance.{what}_rotated",
        **who.audit_fields(),
        target=("instance", instance.id),
        organization_id=instance.organization_id,
        ip=ip,
    )  # nothing of the secret itself
    return secret
