"""Form pieces that show each field's error right under the field."""

from __future__ import annotations

from typing import Any

import reflex as rx


def field(
    label: str,
    name: str,
    error: rx.Var,
    *,
    type_: str = "text",
    placeholder: str = "",
    hint: rx.Component | None = None,
    **input_props: Any,
) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(id=name, name=name, type=type_, placeholder=placeholder, width="100%", size="3", **input_props),
        hint if hint is not None else rx.fragment(),
        rx.cond(error != "", rx.text(error, id=f"{name}-error", color_scheme="red", size="2")),
        spacing="1",
        width="100%",
        align="start",
    )


def form_error(error: rx.Var) -> rx.Component:
    return rx.cond(
        error != "",
        rx.callout(error, icon="triangle_alert", color_scheme="red", role="alert", id="form-error", width="100%"),
    )


def submit(label: str, loading: rx.Var, **props: Any) -> rx.Component:
    return rx.button(label, type="submit", size="3", width="100%", loading=loading, **props)


def card(title: str, *children: rx.Component, subtitle: str | rx.Component = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="6"),
            rx.text(subtitle, color_scheme="gray", size="2")
            if isinstance(subtitle, str) and subtitle
            else (subtitle if not isinstance(subtitle, str) else rx.fragment()),
            *children,
            spacing="4",
            width="100%",
        ),
        width="100%",
        max_width="440px",
        size="3",
    )
