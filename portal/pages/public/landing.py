import reflex as rx

from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState


@page(route="/", title="Your own instance", on_load=[AuthState.load_user], first_paint=True)  # no one's name
def landing() -> rx.Component:
    return rx.vstack(
        rx.heading(t("Your own instance, running in minutes"), size="9", id="landing-title"),
        rx.text(
            t(
                "Pick a name and a plan, pay once with Stripe, and get a private application instance on your own "
                "subdomain. Watch its status, your budget and your usage from one dashboard, and restart it in one "
                "click."
            ),
            size="5",
            color_scheme="gray",
            max_width="720px",
        ),
        rx.hstack(
            rx.link(rx.button(t("Get started"), size="4"), href="/signup"),
            rx.link(rx.button(t("See pricing"), size="4", variant="outline"), href="/pricing"),
            spacing="4",
        ),
        rx.grid(
            *[
                rx.card(
                    rx.vstack(
                        rx.icon(icon, size=28), rx.heading(t(title), size="4"), rx.text(t(text), color_scheme="gray")
                    )
                )
                for icon, title, text in (
                    ("server", "Your own instance", "Isolated container on its own subdomain, with its own data."),
                    (
                        "gauge",
                        "Budget and usage",
                        "See what you used per model and day, with alerts before you run out.",
                    ),
                    ("rotate-cw", "One-click control", "Restart, stop and start your instance yourself, any time."),
                )
            ],
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
            padding_top="6",
        ),
        spacing="6",
        padding_y="9",
        align="start",
    )
