import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.verify import VerifyState


def _resend_form() -> rx.Component:
    return rx.cond(
        VerifyState.resent,
        rx.text(t("If that address has an unconfirmed account, a new link is on its way."), id="resent"),
        rx.form(
            rx.vstack(
                form_error(VerifyState.resend_errors.get("", "")),
                field("E-mail", "email", VerifyState.resend_errors.get("email", ""), type_="email"),
                submit("Send a new link", False),
                width="100%",
            ),
            on_submit=VerifyState.resend,
            width="100%",
        ),
    )


@page(route="/verify", title="Confirm your e-mail", on_load=[AuthState.load_user, VerifyState.verify], centered=True)
def verify() -> rx.Component:
    return card(
        "Confirm your e-mail",
        rx.match(
            VerifyState.status,
            (
                "verified",
                rx.vstack(
                    rx.callout(VerifyState.message, icon="circle_check", color_scheme="green", id="verify-result"),
                    rx.link(rx.button(t("Sign in"), size="3"), href="/login"),
                ),
            ),
            (
                "failed",
                rx.vstack(
                    rx.callout(VerifyState.message, icon="triangle_alert", color_scheme="red", id="verify-result"),
                    _resend_form(),
                    width="100%",
                ),
            ),
            rx.hstack(rx.spinner(), rx.text(t("Checking your link…"))),
        ),
    )
