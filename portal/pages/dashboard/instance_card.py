"""The instance card: status and progress, restart/stop/start behind a confirmation, logs, login, token."""

from __future__ import annotations

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.i18n import t
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
    return confirmed(
        rx.button(
            rx.icon(icon, size=14),
            action.capitalize(),
            size="2",
            variant="soft",
            disabled=~enabled,
            id=f"{action}-instance",
        ),
        f"{action.capitalize()} instance",
        CONFIRM[action],
        action.capitalize(),
        DashboardState.control(action),
        f"confirm-{action}",
    )


def _admin_password() -> rx.Component:
    """A new admin password for the app, applied by restarting it with the new environment; shown once."""
    return rx.vstack(
        confirmed(
            rx.button(
                t("Reset admin password"),
                size="1",
                variant="outline",
                disabled=~V["controls"].to(dict[str, bool])["restart"].to(bool),
                id="reset-admin-password",
            ),
            "Reset the admin password",
            "Your instance restarts with a new generated admin password (unavailable for a few seconds). The "
            "current password stops working. The new one is shown here once.",
            "Reset password",
            Tools.reset_admin_password,
            "confirm-reset-admin-password",
        ),
        rx.cond(
            Tools.new_admin_password != "",
            rx.callout(
                rx.vstack(
                    rx.text(t("Your instance's new admin password. Write it down now: it is shown only this once.")),
                    rx.code(Tools.new_admin_password, id="new-admin-password"),
                ),
                icon="key_round",
                color_scheme="amber",
                width="100%",
            ),
        ),
        align="start",
        width="100%",
    )


def _logs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button(t("Show recent logs"), size="1", variant="outline", on_click=Tools.show_logs, id="show-logs"),
            rx.cond(Tools.logs_open, rx.button(t("Hide"), size="1", variant="ghost", on_click=Tools.hide_logs)),
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
                rx.text(t("Initial login. Write it down now: it is shown only this once.")),
                rx.text(t("Password: "), rx.code(Tools.credentials["admin_password"], id="initial-password")),
            ),
            icon="key_round",
            color_scheme="amber",
            width="100%",
        ),
        rx.cond(
            V["credentials_available"].to(bool),
            rx.button(
                t("Show initial login"),
                size="1",
                variant="outline",
                on_click=Tools.reveal_credentials,
                id="reveal-credentials",
            ),
            rx.cond(
                V["credentials_shown"].to(bool),
                rx.text(
                    t("The initial login was shown once here and is in your welcome e-mail."),
                    size="1",
                    color_scheme="gray",
                ),
            ),
        ),
    )


def _token() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(t("Usage API token: "), size="2"),
            rx.cond(
                _text("token_prefix") != "",
                rx.code(_text("token_prefix") + "…", id="token-prefix"),
                rx.text(t("none yet"), size="2", color_scheme="gray"),
            ),
            confirmed(
                rx.button(t("New token"), size="1", variant="outline", id="rotate-token"),
                "New usage token",
                "Make a new usage token? The current one stops working at once: whatever reports usage with it "
                "must be given the new one, shown here once.",
                "Make a new token",
                Tools.rotate_token,
                "confirm-rotate-token",
            ),
            align="center",
        ),
        rx.cond(
            Tools.new_token != "",
            rx.callout(
                rx.vstack(
                    rx.text(
                        t(
                            "Your instance's new token (the previous one no longer works). Copy it now: it is "
                            "shown only once."
                        )
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


AI_STATE_COLOURS = {"active": "green", "blocked": "red", "suspended": "orange"}


def _ai_gateway() -> rx.Component:
    """The plan's AI models, and the instance's gateway key: whether the gateway lets it through, and why not."""
    models = V["ai_models"].to(list[str])
    return rx.cond(
        models.length() > 0,
        rx.vstack(
            rx.text(t("AI models in your plan: "), rx.text.strong(models.join(", ")), size="2", id="ai-models"),
            rx.cond(
                _text("ai_key_prefix") != "",
                rx.vstack(
                    rx.hstack(
                        rx.text(t("AI gateway key: "), size="2"),
                        rx.code(_text("ai_key_prefix") + "…", id="ai-key-prefix"),
                        rx.badge(
                            _text("ai_key_state"),
                            color_scheme=rx.match(_text("ai_key_state"), *AI_STATE_COLOURS.items(), "gray"),
                            id="ai-key-state",
                        ),
                        confirmed(
                            rx.button(t("New gateway key"), size="1", variant="outline", id="rotate-gateway-key"),
                            "New gateway key",
                            "Make a new AI gateway key? The gateway refuses the current one within a second; your "
                            "instance is given the new one when it restarts.",
                            "Make a new key",
                            Tools.rotate_gateway_key,
                            "confirm-rotate-gateway-key",
                        ),
                        align="center",
                    ),
                    rx.cond(
                        _text("ai_key_reason") != "",
                        rx.text(
                            t("The gateway refuses this key: "), _text("ai_key_reason"), size="2", id="ai-key-reason"
                        ),
                    ),
                    rx.cond(
                        _text("usage_lag") != "",
                        rx.text(
                            t("Newest usage reached this page "),
                            _text("usage_lag"),
                            t(" after the call."),
                            size="1",
                            color_scheme="gray",
                            id="usage-lag",
                        ),
                    ),
                    align="start",
                ),
            ),
            rx.cond(
                Tools.new_gateway_key != "",
                rx.callout(
                    rx.vstack(
                        rx.text(
                            t(
                                "Your instance's new AI gateway key (the previous one no longer works; your instance "
                                "is being updated with it). Copy it now: it is shown only once."
                            )
                        ),
                        rx.code(Tools.new_gateway_key, id="new-gateway-key"),
                    ),
                    icon="key",
                    color_scheme="blue",
                    width="100%",
                ),
            ),
            align="start",
            width="100%",
        ),
    )


def instance_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Your instance"), size="4"),
            rx.link(_text("instance_url"), href=_text("instance_url"), is_external=True, id="instance-url"),
            rx.hstack(
                rx.text(t("Status:")),
                rx.badge(
                    _text("instance_status_label"),
                    id="instance-status",
                    data_status=_text("instance_status"),
                    role="status",  # a live region: screen readers hear "Running" when it changes by itself
                    aria_live="polite",
                ),
                rx.cond(V["busy"].to(bool), rx.spinner(size="1")),
                rx.text(t("as of "), DashboardState.checked_at, size="1", color_scheme="gray", id="status-checked-at"),
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
            _admin_password(),
            _logs(),
            _token(),
            _ai_gateway(),
            spacing="3",
            align="start",
            width="100%",
        ),
        width="100%",
    )
