"""Instance actions through the API: the dashboard's controls for a customer's token, the console's for staff."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services.admin.instances import instance_action
from services.api.access import instance_for
from services.api.resources import instance_dict
from services.api.tokens import ApiCaller
from services.customer.instance_control import control_instance
from services.errors import ValidationFailed
from services.models.base import key


def control(session: Session, caller: ApiCaller, instance_id: int, action: str, ip: str = "") -> dict[str, Any]:
    found = instance_for(session, caller, instance_id, "instances:write")
    if caller.customer is not None:
        action_id = control_instance(session, caller.customer, key(found), action, ip)
    else:
        try:
            action_id = instance_action(session, caller.actor, key(found), action, ip=ip)
        except ValueError as exc:
            raise ValidationFailed.single("action", str(exc)) from exc
    return {"action_id": action_id, "instance": instance_dict(found)}
