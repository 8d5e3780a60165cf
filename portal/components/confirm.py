"""A button that first says what will happen, and when; only the dialog's own button does it."""

from __future__ import annotations

import reflex as rx

from portal.components.i18n import t, tr


def confirmed(
    trigger: rx.Component,
    title: str,
    question: str | rx.Var[str],
    label: str,
    on_confirm: object,
    confirm_id: str,
    *extra: rx.Component,
) -> rx.Component:
    """`trigger` opens a dialog that says what will happen; only its confirm button does it. `extra` goes between
    the explanation and the buttons (a field to type a name into, for what cannot be undone)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(tr(title)),
            rx.alert_dialog.description(tr(question)),
            *extra,
            rx.hstack(
                rx.alert_dialog.cancel(rx.button(t("Cancel"), variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(tr(label), on_click=on_confirm, id=confirm_id)),
                spacing="3",
                justify="end",
                margin_top="1rem",
            ),
        ),
    )
