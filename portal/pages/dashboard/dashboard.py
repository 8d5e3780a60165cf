import reflex as rx

from portal.components.forms import form_error
from portal.components.i18n import t
from portal.components.layout import page
from portal.pages.dashboard.domains_section import domains_section
from portal.pages.dashboard.history_section import history_section
from portal.pages.dashboard.instance_card import instance_card
from portal.pages.dashboard.usage_section import usage_section
from portal.state.auth import AuthState
from portal.state.dashboard import DashboardState
from portal.state.domains import DomainsState
from portal.state.history import HistoryState
from portal.state.usage import UsageState

V = DashboardState.view


def _text(key: str) -> rx.Var:
    return V[key].to(str)


def _verification_banner() -> rx.Component:
    return rx.cond(
        ~AuthState.email_verified,
        rx.callout(
            rx.text(
                t("We sent a confirmation link to "),
                rx.text.strong(AuthState.email),
                t(". Confirm your e-mail to be able to sign in again later."),
            ),
            icon="mail",
            color_scheme="blue",
            high_contrast=True,  # the soft variant's accent text falls under 4.5:1 on its tint (axe)
            id="verify-banner",
            width="100%",
        ),
    )


def _dunning_banner() -> rx.Component:
    return rx.cond(
        _text("dunning_banner") != "",
        rx.callout(
            rx.hstack(
                rx.text(_text("dunning_banner")),
                rx.button(t("Fix payment"), size="1", on_click=DashboardState.manage_billing),
                align="center",
            ),
            icon="triangle_alert",
            color_scheme="orange",
            id="dunning-banner",
            width="100%",
        ),
    )


def _plan_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Plan and billing"), size="4"),
            rx.text(rx.text.strong(_text("plan_name"), id="plan-name"), " · ", _text("plan_price")),
            rx.text(t("Subscription: "), rx.badge(_text("subscription_status"), id="subscription-status")),
            rx.cond(_text("next_invoice") != "", rx.text(t("Next invoice: "), _text("next_invoice"), size="2")),
            rx.cond(
                _text("scheduled_change") != "",
                rx.text(_text("scheduled_change"), size="2", color_scheme="blue", id="scheduled-change"),
            ),
            rx.cond(
                V["cancel_at_period_end"].to(bool),
                rx.text(t("Cancelled: stays active until the end of the period."), size="2", color_scheme="orange"),
            ),
            rx.cond(
                V["can_bill"].to(bool),
                rx.vstack(
                    rx.cond(
                        V["needs_payment"].to(bool),
                        rx.button(t("Complete payment"), on_click=DashboardState.pay_now, id="pay-now"),
                    ),
                    rx.hstack(
                        rx.select.root(
                            rx.select.trigger(
                                placeholder=t("Change plan…"), id="plan-select", aria_label=t("Change plan")
                            ),
                            rx.select.content(
                                rx.foreach(
                                    V["other_plans"].to(list[dict[str, str]]),
                                    lambda p: rx.select.item(p["name"] + " · " + p["price"], value=p["slug"]),
                                )
                            ),
                            value=DashboardState.target_plan,
                            on_change=DashboardState.set_target_plan,
                        ),
                        rx.button(
                            t("Change plan"),
                            variant="soft",
                            on_click=DashboardState.apply_plan_change,
                            id="change-plan",
                        ),
                    ),
                    rx.cond(
                        DashboardState.errors.get("plan", "") != "",
                        rx.text(DashboardState.errors.get("plan", ""), color_scheme="red", size="2", id="plan-error"),
                    ),
                    rx.hstack(
                        rx.button(
                            t("Manage billing"),
                            variant="outline",
                            on_click=DashboardState.manage_billing,
                            id="manage-billing",
                        ),
                        rx.link(t("Invoices and cancellation"), href="/billing", id="billing-link"),
                        align="center",
                    ),
                    spacing="3",
                    align="start",
                ),
                rx.text(t("Billing is handled by your team's owners and billing people."), size="2", id="no-billing"),
            ),
            spacing="3",
            align="start",
        ),
        width="100%",
    )


def _budget_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Budget"), size="4"),
            rx.cond(
                _text("budget_banner") != "",
                rx.callout(
                    _text("budget_banner"), icon="gauge", color_scheme="orange", id="budget-banner", width="100%"
                ),
            ),
            rx.hstack(
                rx.cond(
                    V["budget_percent"].to(int) >= 80,
                    rx.progress(
                        value=V["budget_percent"].to(int),
                        width="100%",
                        color_scheme="orange",
                        id="budget-gauge",
                        aria_label=t("Budget used"),
                    ),
                    rx.progress(
                        value=V["budget_percent"].to(int), width="100%", id="budget-gauge", aria_label=t("Budget used")
                    ),
                ),
                rx.text(V["budget_percent"].to(int), " %", size="2", id="budget-percent", white_space="nowrap"),
                width="100%",
                align="center",
            ),
            rx.text(
                t("Used "),
                _text("budget_used"),
                " of ",
                _text("budget_total"),
                " · ",
                _text("budget_remaining"),
                " left",
                id="budget-summary",
            ),
            rx.cond(_text("budget_reset") != "", rx.text(t("Resets on "), _text("budget_reset"), size="2")),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
    )


@page(
    route="/dashboard",
    title="Dashboard",
    on_load=[AuthState.require_login, DashboardState.load, HistoryState.load, UsageState.load, DomainsState.load],
)
def dashboard() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(t("Dashboard"), size="7"),
            rx.cond(V["has_subscription"].to(bool), rx.link(t("Your team"), href="/team", id="team-link")),
            rx.cond(V["can_operate"].to(bool), rx.link(t("Backups"), href="/backups", id="backups-link")),
            align="center",
            spacing="4",
        ),
        _verification_banner(),
        _dunning_banner(),
        form_error(DashboardState.errors.get("", "")),
        rx.cond(
            V["has_subscription"].to(bool),
            rx.vstack(
                rx.grid(
                    instance_card(),
                    rx.vstack(_plan_card(), _budget_card(), spacing="4", width="100%"),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                history_section(),
                domains_section(),
                usage_section(),
                spacing="4",
                width="100%",
            ),
            rx.vstack(
                rx.text(t("There is no subscription on this account yet."), id="no-subscription"),
                rx.text(
                    t(
                        "Staff: your customers are in the console (Admin, at the top). To run an instance "
                        "yourself, sign up with the plan you want from the pricing page."
                    ),
                    size="2",
                ),
                rx.link(t("See the plans"), href="/pricing", id="no-subscription-pricing"),
                align="start",
            ),
        ),
        spacing="4",
        align="start",
        width="100%",
    )
