"""The shell every page is wrapped in: header, light/dark switch, footer, in the brand of the request's host."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import reflex as rx
from reflex.event import EventType

from portal.components.i18n import USED, t
from portal.state.auth import AuthState
from portal.state.brand import BrandState
from portal.state.language import LanguageState
from services.branding.contrast import accent_text_css
from services.i18n import LANGUAGES


def _nav_link(label: str, href: str) -> rx.Component:
    return rx.link(t(label), href=href, size="3", weight="medium", underline="none", color_scheme="gray")


def language_switch() -> rx.Component:
    """English or German for this browser (and the signed-in person's account): each language named in itself."""
    return rx.select.root(
        rx.select.trigger(variant="ghost", custom_attrs={"aria-label": t("Language")}, id="language-switch"),
        rx.select.content(*[rx.select.item(name, value=code) for code, name in LANGUAGES.items()]),
        value=LanguageState.language,
        on_change=LanguageState.choose,
        size="2",
    )


ACCENT_TEXT_CSS = accent_text_css()
# A long unbroken value (an id, a URL, a JSON detail) wraps inside its cell instead of making the table scroll
# sideways: a scrolling table with nothing focusable in it cannot be scrolled by keyboard (axe:
# scrollable-region-focusable).
TABLE_CSS = ".rt-TableCell, .rt-TableRowHeaderCell { overflow-wrap: anywhere; }"
BRAND = BrandState.brand  # the host's brand, by the names of services.branding.brand.SHOWN


def header() -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.hstack(
                rx.cond(
                    BRAND["logo_url"] != "",
                    rx.image(src=BRAND["logo_url"], height="28px", alt="", id="brand-logo"),
                ),
                rx.cond(
                    BrandState.loaded,
                    rx.heading(BRAND["platform_name"], size="5", id="brand-name"),
                    rx.box(height="var(--heading-line-height-5)", min_width="6rem"),  # its place, no name yet
                ),
                align="center",
                spacing="2",
            ),
            href="/",
            underline="none",
        ),
        rx.spacer(),
        _nav_link("Pricing", "/pricing"),
        rx.cond(
            AuthState.signed_in,
            rx.hstack(
                _nav_link("Dashboard", "/dashboard"),
                _nav_link("Account", "/account"),
                rx.cond(AuthState.is_staff, _nav_link("Admin", "/admin")),
                rx.button(t("Sign out"), on_click=AuthState.sign_out, variant="soft", id="sign-out"),
                spacing="4",
                align="center",
            ),
            rx.hstack(
                _nav_link("Sign in", "/login"),
                rx.link(rx.button(t("Get started")), href="/signup"),
                spacing="4",
                align="center",
            ),
        ),
        language_switch(),
        rx.color_mode.button(variant="ghost", aria_label=t("Switch between light and dark mode")),
        spacing="5",
        align="center",
        width="100%",
        padding_x="1.5rem",
        padding_y="0.75rem",
        border_bottom="1px solid var(--gray-a5)",
    )


def footer() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.text(BRAND["footer_text"], size="1", color_scheme="gray", id="brand-footer"),
            rx.cond(
                BRAND["support_email"] != "",
                rx.link(BRAND["support_email"], href="mailto:" + BRAND["support_email"], size="1"),
            ),
            rx.cond(
                BRAND["powered_by"] != "",
                rx.text(t("Powered by"), " ", BRAND["powered_by"], size="1", color_scheme="gray", id="powered-by"),
            ),
            align="center",
            spacing="1",
        ),
        padding="1.5rem",
        border_top="1px solid var(--gray-a5)",
        width="100%",
    )


PageFn = Callable[[], rx.Component]


@dataclass(frozen=True)
class DeclaredPage:
    component: PageFn
    route: str
    title: str
    on_load: list[EventType[()]]
    description: str


DECLARED: list[DeclaredPage] = []


# what search engines and link previews show; brand-neutral, since one prerendered page serves every seller's host
DESCRIPTION = "Your own application instance, ready in minutes: choose a plan, pay, and run it from one dashboard."


def page(
    *,
    route: str,
    title: str,
    on_load: Sequence[EventType[()]] = (),
    centered: bool = False,
    description: str = DESCRIPTION,
    first_paint: bool = False,
) -> Callable[[PageFn], PageFn]:
    """Declare a page where it is written: its route, title and on-load hooks, in the branded shell.

    Every page resolves the brand of its host first (the shell shows nothing branded until then); `centered`
    is for the small form pages. `first_paint` pages (the public ones, whose content is the same for everyone)
    are prerendered with their content in the neutral brand, so a phone paints them before any script has run;
    the others show a spinner until the host's brand is known (their content needs the visitor's data anyway).
    portal.py only collects what was declared (`DECLARED`).
    """

    def declare(content: PageFn) -> PageFn:
        wrapped = _wrap(content, centered, first_paint)
        USED.add(title)  # the tab's title is said in the page's language too (LanguageState.load)
        on_load_all = [BrandState.load, LanguageState.load(title), *on_load]
        DECLARED.append(DeclaredPage(wrapped, route, title, on_load_all, description))
        return wrapped

    return declare


def _impersonation_banner() -> rx.Component:
    return rx.cond(
        AuthState.impersonator != "",
        rx.callout(
            rx.hstack(
                rx.text(
                    "You are viewing the portal as ",
                    rx.text.strong(AuthState.email),
                    " (signed in as ",
                    AuthState.impersonator,
                    "). Everything you do is recorded.",
                ),
                rx.button(
                    "End impersonation",
                    size="1",
                    color_scheme="orange",
                    on_click=AuthState.end_impersonation,
                    id="end-impersonation",
                ),
                align="center",
            ),
            icon="eye",
            color_scheme="orange",
            id="impersonation-banner",
            width="100%",
        ),
    )


def _skeleton() -> rx.Component:
    """What a prerendered page shows until the host's brand is known: no name, no colours, nothing to flash."""
    return rx.center(rx.spinner(size="3"), min_height="100vh", width="100%", id="brand-pending")


def _wrap(content: PageFn, centered: bool, first_paint: bool) -> PageFn:
    # wraps: Reflex writes a page's compiled components into a module named after the page function's module;
    # without it every page's charts and code blocks land in one module that every page (the landing too) loads
    @functools.wraps(content)
    def wrapped() -> rx.Component:
        body = content()
        shell = rx.box(
            rx.el.style(ACCENT_TEXT_CSS + TABLE_CSS),  # readable on every accent a seller may choose (before their CSS)
            rx.el.style(BRAND["custom_css"]),
            rx.vstack(
                header(),
                _impersonation_banner(),
                rx.box(
                    rx.center(body, width="100%") if centered else body,
                    flex="1",
                    width="100%",
                    max_width="1100px",
                    margin_x="auto",
                    padding="2rem 1.5rem",
                ),
                footer(),
                min_height="100vh",
                spacing="0",
                width="100%",
            ),
            id="brand-shell",
            data_brand=BRAND["platform_name"],
        )
        themed = rx.theme(
            shell,
            accent_color=BRAND["accent_color"],
            gray_color=BRAND["gray_color"],
            radius=BRAND["radius"],
            has_background=True,
        )
        return themed if first_paint else rx.cond(BrandState.loaded, themed, _skeleton())

    wrapped.__name__ = content.__name__
    return wrapped
