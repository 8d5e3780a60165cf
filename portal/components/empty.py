"""What a list says when it is empty: what it would hold and what to do next, instead of a bare table header."""

from __future__ import annotations

import reflex as rx

from portal.components.i18n import tr


def when_empty(rows: rx.Var, text: str, id_: str, *next_steps: rx.Component) -> rx.Component:
    """Shown only while `rows` is empty: `text` (what will appear here and how) and any links or buttons to act."""
    return rx.cond(
        rows.length() == 0,
        rx.hstack(
            rx.icon("inbox", size=16, color="var(--gray-11)", aria_hidden="true"),
            rx.text(tr(text), size="2"),
            *next_steps,
            align="center",
            wrap="wrap",
            spacing="2",
            id=id_,
            class_name="empty-state",
        ),
    )
