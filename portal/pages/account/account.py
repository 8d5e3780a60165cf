import reflex as rx

from portal.components.forms import card, field, form_error, submit
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.account import AccountState
from portal.state.auth import AuthState
from portal.state.email_change import EmailChangeState
from portal.state.privacy import PrivacyState
from portal.state.security import SecurityState as Sec


@page(route="/account", title="Your account", on_load=[AuthState.require_login, Sec.load])
def account() -> rx.Component:
    return rx.vstack(
        rx.heading(t("Hello, "), AuthState.username, size="7", id="account-greeting"),
        rx.text(t("Signed in as "), rx.text.strong(AuthState.email), color_scheme="gray"),
        rx.link(t("Invitations to join a team"), href="/invitations", id="invitations-link"),
        rx.link(t("API tokens and webhooks"), href="/developers", id="developers-link"),
        _email(),
        _your_data(),
        card(
            "Change password",
            rx.form(
                rx.vstack(
                    form_error(AccountState.errors.get("", "")),
                    field(
                        "Current password",
                        "current_password",
                        AccountState.errors.get("current_password", ""),
                        type_="password",
                        auto_complete="current-password",
                    ),
                    field(
                        "New password",
                        "new_password",
                        AccountState.errors.get("new_password", ""),
                        type_="password",
                        auto_complete="new-password",
                    ),
                    field(
                        "Repeat the new password",
                        "confirm",
                        AccountState.errors.get("confirm", ""),
                        type_="password",
                        auto_complete="new-password",
                    ),
                    submit("Change password", AccountState.submitting, id="change-password-submit"),
                    width="100%",
                    spacing="4",
                ),
                on_submit=AccountState.change_password,
                reset_on_submit=False,
                key=AccountState.form_key,
                width="100%",
            ),
        ),
        _two_factor(),
        _sessions(),
        spacing="5",
        align="start",
    )


def _email() -> rx.Component:
    """A new address is confirmed from its own inbox before sign-in moves to it; the old one can undo it."""
    return card(
        "E-mail address",
        rx.text(t("Now: "), rx.text.strong(AuthState.email), size="2"),
        rx.cond(
            EmailChangeState.sent_to != "",
            rx.callout(
                t("We sent a confirmation link to ")
                + EmailChangeState.sent_to
                + t(". Your account keeps its current address until you open it."),
                icon="mail",
                id="email-change-sent",
            ),
        ),
        rx.form(
            rx.vstack(
                form_error(EmailChangeState.errors.get("", "")),
                field(
                    "New e-mail address",
                    "new_email",
                    EmailChangeState.errors.get("new_email", ""),
                    type_="email",
                    auto_complete="email",
                ),
                field(
                    "Your password",
                    "email_password",
                    EmailChangeState.errors.get("email_password", ""),
                    type_="password",
                    auto_complete="current-password",
                ),
                rx.button(t("Change e-mail address"), type="submit", id="change-email-submit"),
                width="100%",
                spacing="4",
            ),
            on_submit=EmailChangeState.request,
            reset_on_submit=False,
            key=EmailChangeState.form_key,
            width="100%",
        ),
    )


def _your_data() -> rx.Component:
    """The export, and deleting the account: what happens is said before the password is asked for."""
    return card(
        "Your data",
        rx.hstack(
            rx.button(
                t("Download my data"),
                variant="outline",
                on_click=PrivacyState.export,
                loading=PrivacyState.exporting,
                id="export-data",
            ),
            rx.text(t("A ZIP of your account, sessions, audit events, subscription, invoices and usage."), size="2"),
            align="center",
            wrap="wrap",
        ),
        rx.form(
            rx.vstack(
                rx.heading(t("Delete my account"), size="4", as_="h3"),
                rx.text(
                    t(
                        "You are signed out everywhere and cannot sign in again. If you are alone in your account, its "
                        "subscription ends now with no further charge, your instance is suspended now and deleted with "
                        "its data after your plan's retention period. Invoices are kept, as the law requires, without "
                        "your name or address."
                    ),
                    size="2",
                ),
                form_error(PrivacyState.errors.get("", "")),
                field(
                    "Your password",
                    "delete_password",
                    PrivacyState.errors.get("delete_password", ""),
                    type_="password",
                    auto_complete="current-password",
                ),
                rx.cond(
                    Sec.two_factor_on,
                    field(
                        "A code from your authenticator app",
                        "delete_code",
                        PrivacyState.errors.get("delete_code", ""),
                        auto_complete="one-time-code",
                    ),
                ),
                rx.hstack(
                    rx.checkbox(name="delete_confirm", id="delete-confirm"),
                    rx.el.label(t("I understand that this cannot be undone."), html_for="delete-confirm"),
                    align="center",
                ),
                rx.cond(
                    PrivacyState.errors.get("delete_confirm", "") != "",
                    rx.text(
                        PrivacyState.errors.get("delete_confirm", ""),
                        color_scheme="red",
                        size="2",
                        id="delete-confirm-error",
                    ),
                ),
                rx.button(t("Delete my account"), type="submit", color_scheme="red", id="delete-account-submit"),
                width="100%",
                spacing="3",
                align="start",
            ),
            on_submit=PrivacyState.delete,
            reset_on_submit=False,
            width="100%",
        ),
    )


def _two_factor() -> rx.Component:
    enrol = rx.vstack(
        rx.text(t("Scan this with your authenticator app, or type the key in:"), size="2"),
        rx.image(src=Sec.enrol_qr, width="180px", height="180px", alt="QR code for your authenticator app"),
        rx.code(Sec.enrol_secret, id="totp-secret"),
        rx.form(
            rx.vstack(
                field(
                    "The 6-digit code it shows",
                    "code",
                    Sec.errors.get("code", ""),
                    auto_complete="one-time-code",
                    input_mode="numeric",
                ),
                rx.button(t("Turn on"), type="submit", id="totp-confirm"),
                width="100%",
            ),
            on_submit=Sec.confirm_two_factor,
            width="100%",
        ),
        width="100%",
    )
    off = rx.form(
        rx.vstack(
            rx.text(t("On. "), Sec.recovery_left, " recovery codes left.", size="2", id="totp-status"),
            field(
                "Your password, to turn it off",
                "password",
                Sec.errors.get("password", ""),
                type_="password",
                auto_complete="current-password",
            ),
            rx.button(
                t("Turn off two-factor sign-in"), type="submit", color_scheme="red", variant="soft", id="totp-disable"
            ),
            width="100%",
        ),
        on_submit=Sec.disable_two_factor,
        width="100%",
    )
    return card(
        "Two-factor sign-in",
        form_error(Sec.errors.get("", "")),
        rx.cond(
            Sec.recovery_codes.length() > 0,
            rx.callout(
                rx.vstack(
                    rx.text(
                        t(
                            "Your recovery codes. Keep them somewhere safe: each works once, and they are shown "
                            "only now."
                        )
                    ),
                    rx.foreach(Sec.recovery_codes, lambda c: rx.code(c, class_name="recovery-code")),
                ),
                icon="key_round",
                color_scheme="amber",
                width="100%",
            ),
        ),
        rx.cond(
            Sec.two_factor_on,
            off,
            rx.cond(
                Sec.enrol_secret != "",
                enrol,
                rx.vstack(
                    rx.text(t("Ask for a code from your phone at every sign-in."), size="2"),
                    rx.button(t("Set up two-factor sign-in"), on_click=Sec.begin_two_factor, id="totp-begin"),
                ),
            ),
        ),
    )


def _sessions() -> rx.Component:
    return card(
        "Signed-in browsers",
        rx.foreach(
            Sec.sessions,
            lambda s: rx.hstack(
                rx.vstack(
                    rx.text(s["browser"].to(str), size="2"),
                    rx.text(s["ip"].to(str), " · since ", s["started"].to(str), size="1", color_scheme="gray"),
                    spacing="0",
                ),
                rx.spacer(),
                rx.cond(s["current"].to(bool), rx.badge(t("this browser"))),
                width="100%",
                class_name="auth-session",
            ),
        ),
        rx.button(
            t("Sign out everywhere else"), variant="soft", on_click=Sec.sign_out_elsewhere, id="sign-out-elsewhere"
        ),
    )
