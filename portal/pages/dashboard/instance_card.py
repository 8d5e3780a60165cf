"""The instance card: status and progress, restart/stop/start behind a confirmation, logs, login, token."""

from __future__ import annotations

import reflex as rx

from portal.state.dashboard import DashboardState
from portal.state.instance_tools import InstanceToolsState as Tools

V = DashboardState.view

CONFIRM = {
    "restart": "Restart your instance? It is unavailable for a few seconds.",
    "stop": "Stop your instance? It stays stopped, with its data kept, until you start it again.",
    "start": "Start your instance?",
}


def _text(key: str) -> rx.Var:
    return V[key].to(str)


def _progress_row(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.match(
            item["status"].to(str),
            ("done", rx.icon("circle_check", color="var(--green-9)", size=16)),
            ("running", rx.spinner(size="1")),
            ("retrying", rx.icon("rotate_cw", color="var(--orange-9)", size=16)),
            rx.icon("circle", color="var(--gray-8)", size=16),
        ),
        rx.text(item["step"].to(str), size="2"),
        class_name="progress-step",
    )


def _control_button(action: str, icon: str) -> rx.Component:
    enabled = V["controls"].to(dict[str, bool])[action].to(bool)
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon(icon, size=14),
                action.capitalize(),
                size="2",
                variant="soft",
                disabled=~enabled,
                id=f"{action}-instance",
            ),
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(f"{action.capitalize()} instance"),
            rx.alert_dialog.description(CONFIRM[action]),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(action.capitalize(), on_click=DashboardState.control(action), id=f"confirm-{action}")
                ),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
    )


def _logs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button("Show recent logs", size="1", variant="outline", on_click=Tools.show_logs, id="show-logs"),
            rx.cond(Tools.logs_open, rx.button("Hide", size="1", variant="ghost", on_click=Tools.hide_logs)),
        ),
        rx.cond(
            Tools.logs_open,
            rx.code_block(
                Tools.logs, language="log", id="instance-logs", width="100%", max_height="18rem", overflow="auto"
            ),
        ),
        width="100%",
        align="start",
    )


def _credentials() -> rx.Component:
    return rx.cond(
        Tools.credentials.length() > 0,
        rx.callout(
            rx.vstack(
                rx.text("Initial login. Write it down now: it is shown only this once."),
                rx.text("Password: ", rx.code(Tools.credentials["admin_password"], id="initial-password")),
            ),
            icon="key_round",
            color_scheme="amber",
            width="100%",
        ),
        rx.cond(
            V["credentials_available"].to(bool),
            rx.button(
                "Show initial login",
                size="1",
                variant="outline",
                on_click=Tools.reveal_credentials,
                id="reveal-credentials",
            ),
            rx.cond(
                V["credentials_shown"].to(bool),
                rx.text(
                    "The initial login was shown once here and is in your welcome e-mail.",
                    size="1",
                    color_scheme="gray",
                ),
            ),
        ),
    )


def _token() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Usage API token: ", size="2"),
            rx.cond(
                _text("token_prefix") != "",
                rx.code(_text("token_prefix") + "…", id="token-prefix"),
                rx.text("none yet", size="2", color_scheme="gray"),
            ),
            rx.button("New token", size="1", variant="outline", on_click=Tools.rotate_token, id="rotate-token"),
            align="center",
        ),
        rx.cond(
            Tools.new_token != "",
            rx.callout(
                rx.vstack(
                    rx.text(
                        "Your instance's new token (the previous one no longer works). Copy it now: it is "
                        "shown only once."
                    ),
                    rx.code(Tools.new_token, id="new-token"),
                ),
                icon="key",
                color_scheme="blue",
                width="100%",
            ),
        ),
        width="100%",
        align="start",
    )


def instance_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Your instance", size="4"),
            rx.link(_text("instance_url"), href=_text("instance_url"), is_external=True, id="instance-url"),
            rx.hstack(
                rx.text("Status:"),
                rx.badge(_text("instance_status_label"), id="instance-status", data_status=_text("instance_status")),
                rx.cond(V["busy"].to(bool), rx.spinner(size="1")),
                rx.text("as of ", DashboardState.checked_at, size="1", color_scheme="gray", id="status-checked-at"),
            ),
            rx.cond(
                _text("instance_problem") != "",
                rx.callout(_text("instance_problem"), icon="life_buoy", id="instance-problem"),
            ),
            rx.foreach(V["progress"].to(list[dict[str, str]]), _progress_row),
            rx.hstack(
                _control_button("restart", "rotate_cw"),
                _control_button("stop", "square"),
                _control_button("start", "play"),
                spacing="2",
            ),
            rx.cond(Tools.error != "", rx.text(Tools.error, color_scheme="red", size="2", id="instance-error")),
            _credentials(),
            _logs(),
            _token(),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
    )
