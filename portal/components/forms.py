"""Form pieces that show each field's error right under the field."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.components.i18n import tr


def label_for(text: str | rx.Var, target: str) -> rx.Component:
    """A real <label for=...> that names its input: Radix's Text with as_="label" drops html_for (axe: label)."""
    return rx.el.label(tr(text), html_for=target, class_name="rt-Text rt-r-size-2 rt-r-weight-medium")


def labelled_upload(label: str, *children: rx.Component, **props: Any) -> rx.Component:
    """rx.upload whose hidden file input has a name. Reflex makes that input itself with no way to pass one, and
    axe (rightly) finds it unlabelled: the input is found in the made component and given its label."""
    upload = rx.upload(*children, **props)
    pending = [upload]
    while pending:
        node = pending.pop()
        if getattr(node, "tag", "") == "input" and "file" in str(getattr(node, "type", "")):
            node.custom_attrs["aria-label"] = label
        pending.extend(getattr(node, "children", []))
    return upload


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
        label_for(label, name),
        rx.input(id=name, name=name, type=type_, placeholder=tr(placeholder), width="100%", size="3", **input_props),
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
    return rx.button(tr(label), type="submit", size="3", width="100%", loading=loading, **props)


def card(title: str, *children: rx.Component, subtitle: str | rx.Component = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(tr(title), size="6"),
            rx.text(tr(subtitle), color_scheme="gray", size="2")
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
