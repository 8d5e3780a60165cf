"""Everything the customer dashboard shows, loaded for one user's own organization only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.billing.plans import public_plans
from services.customer.instance_control import controls_for
from services.customer.scope import own_organization
from services.gateway.keys import SCOPE as GATEWAY_SCOPE
from services.gateway.keys import plan_models
from services.gateway.policy import decide
from services.i18n import N_, SOURCE_LANGUAGE, format_date, format_money, translate
from services.i18n.message import localise
from services.keys.usage_tokens import SCOPE as USAGE_SCOPE
from services.models import (
    ApiToken,
    Budget,
    Instance,
    Organization,
    Plan,
    ProvisioningAction,
    ProvisioningStep,
    Subscription,
)
from services.models.base import key
from services.money import shown_cents
from services.provisioning.actions import STEPS
from services.provisioning.urls import instance_url
from services.provisioning.wording import STATUS_LABELS, STEP_LABELS
from services.tenancy.scope import CAPABILITIES, Customer
from services.usage.alerts import banner as budget_banner
from services.usage.alerts import percent_used
from services.usage.reports import daily_series, model_totals, newest_lag

WE_ARE_ON_IT = N_(
    "Setting up your instance hit a problem. Our team has been notified and is on it; you do not need to do anything."
)


HOST_UNREACHABLE = N_(
    "The server your instance runs on is not reachable. Host unreachable: we are on it, and your data is safe in "
    "its backups; you do not need to do anything."
)
PAYMENT_FAILED = N_(
    "Your last payment failed. Your instance will be suspended on {date} unless you update your payment method."
)
SUSPENDED = N_(
    "Your instance is suspended because the subscription is not paid. Your data is kept; update your payment "
    "method to bring it back at once."
)
MOVES_TO = N_("Moves to {plan} on {date}.")
INTERVALS = {"month": N_("month"), "year": N_("year")}
FREE = N_("Free")


@dataclass
class DashboardView:
    has_subscription: bool = False
    role: str = ""  # the viewer's role: what the page offers follows it (the services check it again)
    can_bill: bool = False
    can_operate: bool = False
    plan_name: str = ""
    plan_slug: str = ""
    plan_price: str = ""
    subscription_status: str = ""
    next_invoice: str = ""
    scheduled_change: str = ""  # a downgrade chosen for the end of the period
    cancel_at_period_end: bool = False
    dunning_banner: str = ""
    needs_payment: bool = False
    instance_url: str = ""
    instance_status: str = ""
    instance_status_label: str = ""
    instance_problem: str = ""
    instance_id: int = 0
    busy: bool = False
    controls: dict[str, bool] = field(default_factory=dict)
    credentials_available: bool = False
    credentials_shown: bool = False
    token_prefix: str = ""
    progress: list[dict[str, str]] = field(default_factory=list)
    budget_total: str = ""
    budget_used: str = ""
    budget_remaining: str = ""
    budget_reset: str = ""
    budget_percent: int = 0
    budget_banner: str = ""
    budget_policy: str = ""
    usage_models: list[str] = field(default_factory=list)
    usage_cost_series: list[dict[str, object]] = field(default_factory=list)
    usage_token_series: list[dict[str, object]] = field(default_factory=list)
    usage_totals: list[dict[str, str]] = field(default_factory=list)
    other_plans: list[dict[str, str]] = field(default_factory=list)
    # the platform's AI gateway: the models the plan allows, and the instance's key (state and why)
    ai_models: list[str] = field(default_factory=list)
    ai_key_prefix: str = ""
    ai_key_state: str = ""
    ai_key_reason: str = ""
    usage_lag: str = ""  # how long the newest usage record took to reach the portal

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def load_dashboard(session: Session, who: Customer | None, language: str = SOURCE_LANGUAGE) -> DashboardView:
    """The customer's own dashboard, in `language`; staff without a customer organization see an empty one."""

    def _(text: str) -> str:
        return translate(language, text)

    def _date(value: datetime | None) -> str:
        return format_date(value, language)

    view = DashboardView()
    if who is None or who.organization_id is None:
        return view
    org_id = own_organization(session, who, "status", attempted="dashboard.view")
    view.role = who.role
    view.can_bill = who.role in CAPABILITIES["billing"]
    view.can_operate = who.role in CAPABILITIES["instances"]
    account = _account(session, org_id)
    if account is None:
        return view
    subscription, plan, instance, budget = account.subscription, account.plan, account.instance, account.budget
    view.has_subscription = True
    view.plan_name, view.plan_slug = plan.name, plan.slug
    interval = _(INTERVALS.get(plan.interval, plan.interval))
    view.plan_price = (
        _(FREE) if plan.is_free else f"{format_money(plan.price_cents, plan.currency, language)} / {interval}"
    )
    view.subscription_status = subscription.status
    view.next_invoice = "" if subscription.cancel_at_period_end else _date(subscription.current_period_end)
    view.cancel_at_period_end = subscription.cancel_at_period_end
    if subscription.scheduled_plan_id is not None:
        scheduled = session.get(Plan, subscription.scheduled_plan_id)
        if scheduled is not None:
            view.scheduled_change = _(MOVES_TO).format(plan=scheduled.name, date=_date(subscription.plan_change_at))
    view.needs_payment = subscription.status == "incomplete"
    if subscription.status in ("past_due", "unpaid") and subscription.suspended_at is None:
        view.dunning_banner = _(PAYMENT_FAILED).format(date=_date(subscription.grace_until))
    elif subscription.suspended_at is not None and subscription.terminated_at is None:
        view.dunning_banner = _(SUSPENDED)
    if instance is not None:
        _instance_part(session, view, instance, account.token_prefix, account.action, language)
        view.controls = {
            name: allowed and view.can_operate
            for name, allowed in controls_for(instance, view.busy, subscription.status).items()
        }
    if budget is not None:
        _budget_part(view, budget, plan, language)
        if instance is not None:
            _usage_part(session, view, instance, budget, language)
    view.ai_models = plan_models(plan)
    if instance is not None and account.gateway_prefix:
        _gateway_part(session, view, account, instance)
    view.other_plans = [
        {"slug": p.slug, "name": p.name, "price": str(localise(p.price, language))}
        for p in public_plans(session, account.organization.parent_id)
        if p.slug != plan.slug
    ]
    return view


@dataclass
class _Account:
    subscription: Subscription
    plan: Plan
    organization: Organization
    instance: Instance | None
    budget: Budget | None
    token_prefix: str | None  # the instance's live API token, if any
    action: ProvisioningAction | None  # the instance's latest action, if any
    gateway_prefix: str | None  # the instance's live AI gateway key, if any


def _account(session: Session, org_id: int) -> _Account | None:
    """The organization's current subscription (its newest, as `current_subscription` picks it) with its plan, the
    organization, the subscription's instance and budget, the instance's live token and its latest action: one
    query, not seven. The dashboard refreshes every couple of seconds in every open tab, and each query is a round
    trip to the database (bench/scale.py)."""
    token, gateway_key = (_live_key_prefix(scope) for scope in (USAGE_SCOPE, GATEWAY_SCOPE))
    latest_action = (
        sa_select(col(ProvisioningAction.id))
        .where(col(ProvisioningAction.instance_id) == col(Instance.id))
        .order_by(col(ProvisioningAction.created_at).desc(), col(ProvisioningAction.id).desc())
        .limit(1)
        .correlate(Instance)
        .scalar_subquery()
    )
    row = session.execute(
        sa_select(Subscription, Plan, Organization, Instance, Budget, token, ProvisioningAction, gateway_key)
        .join(Plan, col(Plan.id) == col(Subscription.plan_id))
        .join(Organization, col(Organization.id) == col(Subscription.organization_id))
        .outerjoin(Instance, col(Instance.subscription_id) == col(Subscription.id))
        .outerjoin(Budget, col(Budget.subscription_id) == col(Subscription.id))
        .outerjoin(ProvisioningAction, col(ProvisioningAction.id) == latest_action)
        .where(col(Subscription.organization_id) == org_id)
        .order_by(col(Subscription.id).desc(), col(Instance.id), col(Budget.id))
    ).first()
    return None if row is None else _Account(*row)


def _live_key_prefix(scope: str) -> Any:
    """The prefix of the instance's live key of `scope`, as a subquery of the account's one query."""
    return (
        sa_select(col(ApiToken.prefix))
        .where(
            col(ApiToken.instance_id) == col(Instance.id),
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.scopes) == scope,
        )
        .order_by(col(ApiToken.id))
        .limit(1)
        .correlate(Instance)
        .scalar_subquery()
    )


def _gateway_part(session: Session, view: DashboardView, account: _Account, instance: Instance) -> None:
    """What the gateway enforces for this key, decided as the gateway's cache has it (services/gateway/policy),
    and how far behind the usage it reports is."""
    plan, budget = account.plan, account.budget
    rules = decide(
        (key(instance), instance.organization_id, instance.status),
        account.subscription.status,
        plan.limits,
        plan.budget_policy,
        plan.currency,
        (budget.total_micros, budget.used_micros) if budget is not None else None,
    )
    view.ai_key_prefix = account.gateway_prefix or ""
    view.ai_key_state, view.ai_key_reason = rules.state, rules.reason
    view.usage_lag = newest_lag(session, key(instance))


def _budget_part(view: DashboardView, budget: Budget, plan: Plan, language: str) -> None:
    remaining = max(0, budget.total_micros - budget.used_micros)
    view.budget_total = format_money(shown_cents(budget.total_micros), plan.currency, language)
    view.budget_used = format_money(shown_cents(budget.used_micros), plan.currency, language)
    view.budget_remaining = format_money(shown_cents(remaining), plan.currency, language)
    view.budget_reset = format_date(budget.reset_at, language)
    view.budget_percent = min(100, percent_used(budget.total_micros, budget.used_micros))
    view.budget_banner = str(localise(budget_banner(budget, plan), language))
    view.budget_policy = plan.budget_policy


def _usage_part(session: Session, view: DashboardView, instance: Instance, budget: Budget, language: str) -> None:
    series = daily_series(session, key(instance), language=language)
    view.usage_models = series.models
    view.usage_cost_series, view.usage_token_series = series.cost_rows, series.token_rows
    view.usage_totals = model_totals(session, key(instance), budget.period_start)


def _instance_part(
    session: Session,
    view: DashboardView,
    instance: Instance,
    token_prefix: str | None,
    action: ProvisioningAction | None,
    language: str,
) -> None:
    view.instance_id = key(instance)
    view.credentials_available = bool(instance.credentials_encrypted) and instance.credentials_shown_at is None
    view.credentials_shown = instance.credentials_shown_at is not None
    view.token_prefix = token_prefix or ""
    view.instance_url = instance_url(instance.subdomain, instance.backend, instance.upstream)
    view.instance_status = instance.status
    view.instance_status_label = translate(language, STATUS_LABELS.get(instance.status, instance.status))
    problem = HOST_UNREACHABLE if instance.host_unreachable else WE_ARE_ON_IT if instance.status == "error" else ""
    view.instance_problem = translate(language, problem) if problem else ""
    view.busy = action is not None and action.status in ("queued", "running", "retrying")
    if action is not None and view.busy:
        done = {
            s.step: s.status
            for s in session.exec(
                select(ProvisioningStep)
                .where(col(ProvisioningStep.action_id) == action.id)
                .order_by(col(ProvisioningStep.id))
            ).all()
        }
        view.progress = [
            {
                "step": translate(language, STEP_LABELS.get(step, step)),
                "status": "done"
                if done.get(step) == "succeeded"
                else ("retrying" if done.get(step) == "failed" else ("running" if step in done else "waiting")),
            }
            for step in STEPS[action.action]
        ]
