import reflex as rx

from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.pricing import PricingState


def _plan_card(plan: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(plan["name"].to(str), size="5"),
            rx.heading(plan["price"].to(str), size="7", class_name="plan-price"),
            rx.text(plan["description"].to(str), color_scheme="gray"),
            rx.text(plan["budget"].to(str), size="2"),
            rx.foreach(plan["features"].to(list[str]), lambda f: rx.text("✓ ", f, size="2")),
            rx.link(rx.button(t("Choose"), width="100%"), href="/signup?plan=" + plan["slug"].to(str), width="100%"),
            spacing="3",
            align="start",
        ),
        class_name="plan-card",
    )


@page(
    route="/pricing",
    title="Pricing",
    on_load=[AuthState.load_user, PricingState.load],
    first_paint=True,
    description="Plans and prices: what each includes, its AI budget and its limits. Change or cancel at any time.",
)
def pricing() -> rx.Component:
    return rx.vstack(
        rx.heading(t("Pricing"), size="8"),
        rx.text(t("Every plan includes your own instance on your own subdomain."), color_scheme="gray"),
        rx.grid(
            rx.foreach(PricingState.plans, _plan_card),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
        spacing="5",
        align="start",
    )
