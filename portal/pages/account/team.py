"""/team: the customer's colleagues with their roles, inviting more, and leaving. Owners and admins manage; every
member sees who is on the team and what each role may do."""

from __future__ import annotations

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.forms import field, form_error
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.customer_team import CustomerTeamState as T
from services.customer.team import CUSTOMER_ROLES, ROLE_HELP

V = T.view
ROLES = list(CUSTOMER_ROLES)


def _can_manage() -> rx.Var[bool]:
    return V["can_manage"].to(bool)


def _member(row: rx.Var) -> rx.Component:
    email, you = row["email"].to(str), row["you"].to(str) != ""
    return rx.table.row(
        rx.table.row_header_cell(rx.cond(you, email + t(" (you)"), email)),
        rx.table.cell(
            rx.cond(
                _can_manage() & ~you,
                rx.select(
                    ROLES,
                    value=row["role"].to(str),
                    size="1",
                    on_change=lambda role: T.change_role(row["id"].to(str), role),
                    custom_attrs={"aria-label": t("Role of ") + email},
                ),
                rx.badge(row["role"].to(str)),
            )
        ),
        rx.table.cell(row["since"].to(str)),
        rx.table.cell(
            rx.cond(
                _can_manage() & ~you,
                confirmed(
                    rx.button(
                        t("Remove"), size="1", variant="soft", color_scheme="red", aria_label=t("Remove ") + email
                    ),
                    "Remove from the team",
                    "They lose access to this account at once. Their own login stays theirs.",
                    "Remove",
                    T.remove(row["id"].to(str)),
                    "confirm-remove-" + row["id"].to(str),
                ),
            )
        ),
        data_member=email,
    )


def _invitations() -> rx.Component:
    rows = V["invitations"].to(list[dict[str, str]])
    return rx.cond(
        rows.length() > 0,
        rx.vstack(
            rx.heading(t("Open invitations"), size="3", as_="h3"),
            rx.foreach(
                rows,
                lambda i: rx.hstack(
                    rx.text(i["email"], " · ", i["role"], " · until ", i["expires"], size="2"),
                    confirmed(
                        rx.button(
                            t("Withdraw"),
                            size="1",
                            variant="ghost",
                            aria_label=t("Withdraw the invitation to ") + i["email"],
                        ),
                        "Withdraw the invitation",
                        t("Withdraw the invitation to ") + i["email"].to(str) + t("? Its link stops working at once."),
                        "Withdraw",
                        T.withdraw(i["id"]),
                        "confirm-withdraw",
                    ),
                    align="center",
                    data_invitation=i["email"],
                ),
            ),
            align="start",
        ),
    )


def _invite_form() -> rx.Component:
    return rx.cond(
        _can_manage(),
        rx.form(
            rx.vstack(
                rx.heading(t("Invite a colleague"), size="3", as_="h3"),
                field("E-mail address", "email", T.errors.get("email", ""), type_="email"),
                rx.el.label(t("Role"), html_for="invite-role", class_name="rt-Text rt-r-size-2 rt-r-weight-medium"),
                rx.select(
                    ROLES, name="role", default_value="member", id="invite-role", custom_attrs={"aria-label": t("Role")}
                ),
                rx.cond(
                    T.errors.get("role", "") != "",
                    rx.text(T.errors.get("role", ""), color_scheme="red", size="2", id="role-error"),
                ),
                rx.button(t("Send invitation"), type="submit", id="invite-submit"),
                align="start",
                width="100%",
            ),
            on_submit=T.invite,
            reset_on_submit=True,
            key=T.form_key,
            width="100%",
            max_width="28rem",
        ),
    )


def _roles_help() -> rx.Component:
    return rx.el.dl(
        *(
            rx.fragment(rx.el.dt(rx.text.strong(role)), rx.el.dd(text, margin_left="0", margin_bottom="0.5rem"))
            for role, text in ROLE_HELP.items()
        ),
        margin="0",
    )


@page(route="/team", title="Your team", on_load=[AuthState.require_login, T.load])
def customer_team() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading(t("Your team"), size="7"), rx.link(t("Back to the dashboard"), href="/dashboard")),
        form_error(T.errors.get("", "")),
        rx.card(
            rx.vstack(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(*(rx.table.column_header_cell(h) for h in ("Person", "Role", "Since", "")))
                    ),
                    rx.table.body(rx.foreach(V["members"].to(list[dict[str, str]]), _member)),
                    width="100%",
                    id="team-members",
                ),
                _invitations(),
                _invite_form(),
                align="start",
                width="100%",
                spacing="4",
            ),
            width="100%",
        ),
        rx.card(rx.vstack(rx.heading(t("What each role may do"), size="4", as_="h2"), _roles_help()), width="100%"),
        confirmed(
            rx.button(t("Leave the team"), variant="outline", color_scheme="red", id="leave-team"),
            "Leave the team",
            "You lose access to this account at once; an owner can invite you again. "
            "Your team keeps at least one owner.",
            "Leave",
            T.leave,
            "confirm-leave-team",
        ),
        spacing="4",
        width="100%",
        max_width="56rem",
    )
