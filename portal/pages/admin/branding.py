"""The branding editor with a live preview of the header, a button and a badge in the chosen brand."""

from __future__ import annotations

from typing import Any

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.forms import label_for, labelled_upload
from portal.components.i18n import t
from portal.components.layout import page
from portal.pages.admin.customers import ACCENT_CHOICES, GRAY_CHOICES, RADIUS_CHOICES
from portal.state.auth import AuthState
from portal.state.branding_editor import ALL_LANGUAGES
from portal.state.branding_editor import BrandingEditorState as B
from services.i18n import LANGUAGES
from services.mail.overrides import EMAIL_TEMPLATES

LANGUAGE_CHOICES = list(LANGUAGES)  # the seller's default, for visitors whose browser asks for none we speak

LOGO, FAVICON = B.own.get("logo_url", ""), B.own.get("favicon_url", "")


def _or_inherited(name: str) -> rx.Var:
    return rx.cond(B.own.get(name, "") != "", B.own.get(name, ""), B.inherited.get(name, ""))


def _error(name: str) -> rx.Component:
    return rx.cond(
        B.field_errors.get(name, "") != "",
        rx.text(B.field_errors.get(name, ""), color_scheme="red", size="1", id=f"{name}-error"),
    )


def _text_field(label: str, name: str, **props) -> rx.Component:
    return rx.vstack(
        label_for(label, f"brand-{name}"),
        rx.input(
            value=B.own.get(name, ""),
            on_change=lambda v: B.set_field(name, v),
            id=f"brand-{name}",
            placeholder=B.inherited.get(name, ""),
            width="100%",
            **props,
        ),
        _error(name),
        width="100%",
        spacing="1",
    )


def _choice(label: str, name: str, choices: list[str]) -> rx.Component:
    return rx.vstack(
        rx.el.label(t(label), html_for=f"brand-{name}", class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
        rx.select(
            choices,
            value=_or_inherited(name),
            on_change=lambda v: B.set_field(name, v),
            id=f"brand-{name}",
            custom_attrs={"aria-label": label},
        ),
        _error(name),
        spacing="1",
    )


def _preview() -> rx.Component:
    return rx.theme(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.cond(LOGO != "", rx.image(src=LOGO, height="28px", alt="")),
                    rx.heading(_or_inherited("platform_name"), size="5", id="preview-name"),
                    align="center",
                ),
                rx.text(t("This is how your customers see your portal."), size="2"),
                rx.hstack(rx.button(t("Get started")), rx.button(t("Sign in"), variant="soft"), rx.badge(t("Running"))),
                rx.text(_or_inherited("footer_text"), size="1", color_scheme="gray"),
                align="start",
            ),
            width="100%",
            id="brand-preview",
        ),
        accent_color=_or_inherited("accent_color"),
        gray_color=_or_inherited("gray_color"),
        radius=_or_inherited("radius"),
    )


def _section(title: str, explanation: str, *children: rx.Component, **props: Any) -> rx.Component:
    """One part of the editor: its heading, a line saying what it does, then its controls."""
    return rx.vstack(
        rx.heading(t(title), size="3"),
        rx.text(t(explanation), size="1", color_scheme="gray"),
        *children,
        **props,
    )


def _emails() -> rx.Component:
    return _section(
        "E-mails",
        "Leave a part empty to send the built-in one. Variables such as {{ brand_name }}, {{ username }} "
        "or {{ link }} are filled in.",
        rx.hstack(
            rx.select(
                list(EMAIL_TEMPLATES),
                value=B.email_template,
                on_change=B.choose_email,
                id="email-template",
                custom_attrs={"aria-label": t("E-mail to edit")},
            ),
            rx.select.root(
                rx.select.trigger(id="email-language", custom_attrs={"aria-label": t("For recipients who read")}),
                rx.select.content(
                    rx.select.item(t("Every language"), value=ALL_LANGUAGES),
                    *[rx.select.item(name, value=code) for code, name in LANGUAGES.items()],
                ),
                value=rx.cond(B.email_language == "", ALL_LANGUAGES, B.email_language),
                on_change=B.choose_email_language,
            ),
        ),
        *[
            rx.vstack(
                label_for(label, f"email-{part}"),
                rx.text_area(
                    value=B.email_parts.get(part, ""),
                    on_change=lambda v, part=part: B.set_email_part(part, v),
                    rows=rows,
                    width="100%",
                    id=f"email-{part}",
                ),
                _error(f"email_{part}"),
                width="100%",
                spacing="1",
            )
            for part, label, rows in (("subject", "Subject", "1"), ("text", "Text", "4"), ("html", "HTML", "4"))
        ],
        rx.button(t("Save e-mail"), variant="soft", on_click=B.save_email, id="email-save"),
        _error("email_"),
        _error("email_template"),
        width="100%",
        align="start",
    )


def _word_row(row: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["text"].to(str)),
        rx.table.cell(row["replacement"].to(str)),
        rx.table.cell(
            rx.button(
                t("Use the built-in text"),
                size="1",
                variant="soft",
                color_scheme="gray",
                on_click=B.remove_word(row["text"].to(str)),
            )
        ),
    )


def _words() -> rx.Component:
    """The seller's own text for any built-in one, per language (services/admin/words.py)."""
    return _section(
        "Your words",
        "Replace any text of your portal, in each language. Start typing the built-in text and pick it from "
        "the suggestions; what you leave alone stays as built in.",
        rx.select.root(
            rx.select.trigger(id="word-language", custom_attrs={"aria-label": t("Language of your words")}),
            rx.select.content(*[rx.select.item(name, value=code) for code, name in LANGUAGES.items()]),
            value=B.word_language,
            on_change=lambda v: B.set_word("language", v),
        ),
        rx.el.datalist(rx.foreach(B.known_texts, lambda text: rx.el.option(value=text)), id="known-texts"),
        label_for("Built-in text", "word-text"),
        rx.input(
            value=B.word_text,
            on_change=lambda v: B.set_word("text", v),
            list="known-texts",
            id="word-text",
            width="100%",
        ),
        _error("word_text"),
        label_for("Your text", "word-replacement"),
        rx.input(
            value=B.word_replacement,
            on_change=lambda v: B.set_word("replacement", v),
            id="word-replacement",
            width="100%",
        ),
        _error("word_replacement"),
        _error("word_language"),
        rx.button(t("Save words"), variant="soft", on_click=B.save_word, id="word-save"),
        rx.cond(
            B.word_rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell(t("Built in")),
                        rx.table.column_header_cell(t("Yours")),
                        rx.table.column_header_cell(t("Action")),
                    )
                ),
                rx.table.body(rx.foreach(B.word_rows, _word_row)),
                id="words-table",
                width="100%",
            ),
        ),
        width="100%",
        align="start",
    )


def _seller_domain(domain: rx.Var[dict[str, Any]]) -> rx.Component:
    """One portal domain: its status, what to fix, and the records while it is not proven."""
    hostname = domain["hostname"].to(str)
    records = domain["records"].to(list[dict[str, str]])
    return rx.vstack(
        rx.hstack(
            rx.code(hostname, class_name="brand-domain"),
            rx.badge(domain["status_label"].to(str)),
            rx.button(
                t("Check now"),
                size="1",
                variant="soft",
                on_click=B.check_domain(domain["id"].to(int)),
                aria_label=t("Check ") + hostname + t(" now"),
            ),
            confirmed(
                rx.button(
                    t("Remove"), size="1", variant="outline", color_scheme="red", aria_label=t("Remove ") + hostname
                ),
                "Remove this domain",
                t("Remove ")
                + hostname
                + t(
                    "? Your portal stops answering on it at once and its certificate is no "
                    "longer renewed. You can add it again later."
                ),
                "Remove",
                B.remove_domain(domain["id"].to(int)),
                "confirm-remove-domain",
            ),
            align="center",
            wrap="wrap",
        ),
        rx.cond(domain["message"].to(str) != "", rx.text(domain["message"].to(str), size="2")),
        rx.foreach(
            records,
            lambda r: rx.text(rx.code(r["type"]), " ", rx.code(r["name"]), " → ", rx.code(r["value"]), size="1"),
        ),
        spacing="1",
        align="start",
        role="status",
    )


def _sender() -> rx.Component:
    """Your own From address: used once a DNS record proves the domain is yours."""
    return _section(
        "Sender address",
        "Without one, e-mails come from the platform's address in your name, with replies to your support address.",
        rx.form(
            rx.hstack(
                rx.input(
                    name="sender_email",
                    placeholder="hello@yourcompany.com",
                    id="sender-email",
                    default_value=B.sender.get("email", ""),
                    aria_label=t("Sender address"),
                ),
                rx.button(t("Save"), type="submit", variant="soft", id="sender-save"),
            ),
            on_submit=B.set_sender,
        ),
        rx.cond(
            B.sender.contains("email"),
            rx.vstack(
                rx.cond(
                    B.sender.get("verified", "") == "yes",
                    rx.badge(t("Verified: e-mails come from this address"), color_scheme="green", id="sender-verified"),
                    rx.vstack(
                        rx.text(t("Publish this TXT record, then verify:"), size="2"),
                        rx.code(B.sender.get("record_name", ""), id="sender-record-name"),
                        rx.code(B.sender.get("record_value", ""), id="sender-record-value"),
                        rx.button(t("Verify"), size="1", on_click=B.verify_sender, id="sender-verify"),
                        align="start",
                    ),
                ),
                align="start",
            ),
        ),
        _error("sender_email"),
        align="start",
        width="100%",
    )


@page(route="/admin/branding", title="Branding", on_load=[AuthState.require_login, B.load_editor])
def branding_editor() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading(t("Branding"), size="7"), rx.spacer(), rx.link(t("Back to the console"), href="/admin")),
        rx.cond(B.error != "", rx.callout(B.error, icon="shield_alert", color_scheme="red", id="admin-error")),
        rx.cond(B.field_errors.get("", "") != "", rx.callout(B.field_errors.get("", ""), color_scheme="red")),
        rx.grid(
            rx.vstack(
                _text_field("Portal name", "platform_name"),
                rx.hstack(
                    _choice("Accent colour", "accent_color", ACCENT_CHOICES),
                    rx.cond(
                        B.accent_warning != "",
                        rx.callout(
                            B.accent_warning,
                            icon="eye",
                            color_scheme="amber",
                            high_contrast=True,
                            id="accent-warning",
                            role="status",
                        ),
                    ),
                    _choice("Grey", "gray_color", GRAY_CHOICES),
                    _choice("Corners", "radius", RADIUS_CHOICES),
                    _choice("Default language", "language", LANGUAGE_CHOICES),
                ),
                _text_field("Support e-mail", "support_email", type="email"),
                _text_field("Footer text", "footer_text"),
                rx.vstack(
                    rx.text(t("Custom CSS"), size="2", weight="medium"),
                    rx.text_area(
                        value=B.own.get("custom_css", ""),
                        on_change=lambda v: B.set_field("custom_css", v),
                        id="brand-custom_css",
                        rows="6",
                        width="100%",
                        placeholder=".hero { font-weight: 800 }",
                    ),
                    _error("custom_css"),
                    width="100%",
                    spacing="1",
                ),
                rx.hstack(
                    rx.switch(checked=B.hide_platform_branding, on_change=B.set_hide, id="brand-hide"),
                    label_for('Hide "Powered by"', "brand-hide"),
                ),
                labelled_upload(
                    "Logo file",
                    rx.button(t("Upload a logo (PNG, JPEG, GIF, WebP; up to 512 KB)"), variant="outline", size="1"),
                    id="logo-upload",
                    max_files=1,
                    on_drop=B.upload_logo(rx.upload_files(upload_id="logo-upload")),
                ),
                _error("logo"),
                labelled_upload(
                    "Favicon file",
                    rx.button(t("Upload a favicon (PNG or GIF, square)"), variant="outline", size="1"),
                    id="favicon-upload",
                    max_files=1,
                    on_drop=B.upload_favicon(rx.upload_files(upload_id="favicon-upload")),
                ),
                rx.cond(
                    FAVICON != "",
                    rx.image(src=FAVICON, width="32px", height="32px", alt=t("Your favicon"), id="favicon-preview"),
                ),
                _error("favicon"),
                rx.button(t("Save"), on_click=B.save, id="brand-save"),
                width="100%",
                align="start",
                spacing="3",
            ),
            rx.vstack(
                _preview(),
                rx.heading(t("Your domains"), size="3"),
                rx.foreach(B.domains, _seller_domain),
                rx.form(
                    rx.hstack(
                        rx.input(name="hostname", placeholder="portal.yourcompany.com", id="domain-input"),
                        rx.button(t("Add domain"), type="submit", variant="soft", id="domain-add"),
                    ),
                    on_submit=B.add_domain,
                    reset_on_submit=True,
                ),
                _error("hostname"),
                _sender(),
                _emails(),
                _words(),
                width="100%",
                align="start",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="5",
            width="100%",
        ),
        width="100%",
        align="start",
        spacing="4",
    )
