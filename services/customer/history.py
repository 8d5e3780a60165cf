"""What the customer's instance went through: its uptime over the last 30 days and the timeline of its latest
action (each step with when it started and how long it took), for the dashboard's history section.

Read once when the dashboard opens, not on every refresh: a day's uptime changes once a minute at most.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlmodel import Session, col, select

from services.customer.scope import own_instance
from services.i18n import N_, SOURCE_LANGUAGE, format_date, format_number, translate
from services.models import ProvisioningAction, ProvisioningStep
from services.models.base import key
from services.ops.history import overall_percent, uptime_strip
from services.provisioning.wording import ACTION_LABELS, STEP_LABELS
from services.tenancy.scope import Customer

STATE_LABELS = {
    "up": N_("up all day"),
    "degraded": N_("down part of the day"),
    "down": N_("down"),
    "none": N_("not checked"),
}
OF_CHECKS = N_("{percent} of {checks} checks")
UNDER_WAY = N_("under way")
ATTEMPT = N_("attempt {n}")


def _percent(value: float | None) -> str:
    if value is None:
        return ""
    return "100%" if value >= 100 else f"{min(value, 99.99):.2f}%"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 60 else f"{int(value // 60)} min {int(value % 60)} s"


@dataclass
class InstanceHistory:
    uptime: list[dict[str, str]] = field(default_factory=list)
    uptime_percent: str = ""  # over the days that had checks; "" when none had
    action: str = ""  # the latest action, as a person says it
    action_when: str = ""
    action_status: str = ""
    steps: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def instance_history(
    session: Session, who: Customer | None, instance_id: int, language: str = SOURCE_LANGUAGE
) -> InstanceHistory:
    instance = own_instance(session, who, instance_id, capability="status", attempted="instance.history")

    def _(text: str) -> str:
        return translate(language, text)

    history = InstanceHistory()
    marks = uptime_strip(session, key(instance))
    for mark in marks:
        percent = _percent(mark.percent)
        said = _(STATE_LABELS[mark.state])
        if mark.checks:
            said += ", " + _(OF_CHECKS).format(percent=percent, checks=format_number(mark.checks, language))
        label = f"{format_date(mark.day, language)}: {said}"
        history.uptime.append({"day": mark.day.isoformat(), "label": label, "state": mark.state, "percent": percent})
    history.uptime_percent = _percent(overall_percent(marks))
    action = session.exec(
        select(ProvisioningAction)
        .where(col(ProvisioningAction.instance_id) == key(instance))
        .order_by(col(ProvisioningAction.created_at).desc(), col(ProvisioningAction.id).desc())
    ).first()
    if action is None:
        return history
    history.action = _(ACTION_LABELS.get(action.action, action.action.capitalize()))
    history.action_when = f"{format_date(action.created_at, language)} {action.created_at:%H:%M:%S} UTC"
    history.action_status = action.status
    steps = session.exec(
        select(ProvisioningStep).where(col(ProvisioningStep.action_id) == action.id).order_by(col(ProvisioningStep.id))
    ).all()
    longest = max(((s.finished_at or s.started_at) - s.started_at).total_seconds() for s in steps) if steps else 0.0
    for step in steps:
        took = ((step.finished_at or step.started_at) - step.started_at).total_seconds()
        history.steps.append(
            {
                "step": _(STEP_LABELS.get(step.step, step.step))
                + (", " + _(ATTEMPT).format(n=step.attempt) if step.attempt > 1 else ""),
                "status": step.status,
                "started": f"{step.started_at:%H:%M:%S}",
                "took": _seconds(took) if step.finished_at else _(UNDER_WAY),
                "width": f"{max(2, round(100 * took / longest)) if longest else 2}%",
            }
        )
    return history
