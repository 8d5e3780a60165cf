"""The shell every page is wrapped in: header, light/dark switch, footer. Later issues brand it per reseller."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from portal.state.auth import AuthState


def _nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, size="3", weight="medium", underline="none", color_scheme="gray")


def header() -> rx.Component:
    return rx.hstack(
        rx.link(rx.heading("Portal", size="5", id="brand-name"), href="/", underline="none"),
        rx.spacer(),
        _nav_link("Pricing", "/pricing"),
        rx.cond(
            AuthState.signed_in,
            rx.hstack(
                _nav_link("Dashboard", "/dashboard"),
                _nav_link("Account", "/account"),
                rx.cond(AuthState.is_staff, _nav_link("Admin", "/admin")),
                rx.button("Sign out", on_click=AuthState.sign_out, variant="soft", id="sign-out"),
                spacing="4", align="center",
            ),
            rx.hstack(
                _nav_link("Sign in", "/login"),
                rx.link(rx.button("Get started"), href="/signup"),
                spacing="4", align="center",
            ),
        ),
        rx.color_mode.button(variant="ghost"),
        spacing="5",
        align="center",
        width="100%",
        padding_x="1.5rem",
        padding_y="0.75rem",
        border_bottom="1px solid var(--gray-a5)",
    )


def footer() -> rx.Component:
    return rx.center(
        rx.text("Your own application instance, managed for you.", size="1", color_scheme="gray"),
        padding="1.5rem",
        border_top="1px solid var(--gray-a5)",
        width="100%",
    )


PageFn = Callable[[], rx.Component]


def page(content: PageFn | None = None, *, centered: bool = False) -> PageFn | Callable[[PageFn], PageFn]:
    """Wrap a page function in the shell: `@page` or `@page(centered=True)` for the small form pages."""
    if content is None:
        return lambda fn: _wrap(fn, centered)
    return _wrap(content, centered)


def _wrap(content: PageFn, centered: bool) -> PageFn:
    def wrapped() -> rx.Component:
        body = content()
        return rx.box(
            rx.vstack(
                header(),
                rx.box(
                    rx.center(body, width="100%") if centered else body,
                    flex="1", width="100%", max_width="1100px", margin_x="auto", padding="2rem 1.5rem",
                ),
                footer(),
                min_height="100vh",
                spacing="0",
                width="100%",
            ),
        )

    wrapped.__name__ = content.__name__
    return wrapped
