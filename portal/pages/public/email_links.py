"""The pages the e-mail change's messages link to: confirm the new address, undo a change from the old one."""

import reflex as rx

from portal.components.forms import card
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.email_change import EmailLinkState


def _result(title: str) -> rx.Component:
    return card(
        title,
        rx.match(
            EmailLinkState.status,
            (
                "done",
                rx.vstack(
                    rx.callout(EmailLinkState.message, icon="circle_check", color_scheme="green", id="email-result"),
                    rx.link(rx.button(t("Sign in"), size="3"), href="/login"),
                ),
            ),
            (
                "failed",
                rx.callout(EmailLinkState.message, icon="triangle_alert", color_scheme="red", id="email-result"),
            ),
            rx.hstack(rx.spinner(), rx.text(t("Checking your link…"))),
        ),
    )


@page(
    route="/account/email",
    title="Confirm your new e-mail address",
    on_load=[AuthState.load_user, EmailLinkState.confirm],
    centered=True,
)
def confirm_email() -> rx.Component:
    return _result("Confirm your new e-mail address")


@page(
    route="/account/email/undo",
    title="Undo the e-mail change",
    on_load=[AuthState.load_user, EmailLinkState.undo],
    centered=True,
)
def undo_email() -> rx.Component:
    return _result("Undo the e-mail change")
