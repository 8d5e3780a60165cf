"""/backups: the instance's backups, newest first, with what each one is; take one now, download or restore one.
A restore first says what will happen (current data backed up, then replaced, then the instance restarted)."""

from __future__ import annotations

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.forms import form_error
from portal.components.i18n import t
from portal.components.layout import page
from portal.state.auth import AuthState
from portal.state.backups import BackupsState as B

V = B.view
RESTORE_SAYS = (
    "Your instance's current data is backed up first (you can restore that backup to undo this), then replaced by "
    "this backup's, then the instance restarts. It is unavailable for the minute this takes."
)


def _can_manage() -> rx.Var[bool]:
    return V["can_manage"].to(bool)


def _row(row: rx.Var) -> rx.Component:
    backup_id, taken = row["id"].to(str), row["taken"].to(str)
    complete = row["status"].to(str) == "complete"
    return rx.table.row(
        rx.table.row_header_cell(taken),
        rx.table.cell(row["kind"].to(str)),
        rx.table.cell(
            rx.cond(
                complete,
                rx.text(row["size"].to(str)),
                rx.text(row["status_label"].to(str), " ", row["error"].to(str), color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.cond(
                complete & _can_manage(),
                rx.hstack(
                    rx.button(
                        t("Download"),
                        size="1",
                        variant="soft",
                        on_click=B.download(backup_id),
                        aria_label=t("Download the backup of ") + taken,
                    ),
                    confirmed(
                        rx.button(
                            t("Restore"),
                            size="1",
                            variant="soft",
                            color_scheme="orange",
                            aria_label=t("Restore the backup of ") + taken,
                        ),
                        t("Restore the backup of ") + taken,
                        RESTORE_SAYS,
                        "Restore",
                        B.restore(backup_id),
                        "confirm-restore-" + backup_id,
                    ),
                    spacing="2",
                ),
            )
        ),
        data_backup=backup_id,
    )


def _table() -> rx.Component:
    rows = V["backups"].to(list[dict[str, str]])
    return rx.cond(
        rows.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(*(rx.table.column_header_cell(t(h) if h else "") for h in ("Taken", "Kind", "Size", "")))
            ),
            rx.table.body(rx.foreach(rows, _row)),
            width="100%",
            id="backup-list",
        ),
        rx.text(
            t("No backups yet. Your plan takes one every day on its own; use Back up now before a risky change."),
            id="no-backups",
        ),
    )


@page(route="/backups", title="Backups", on_load=[AuthState.require_login, B.load])
def backups_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading(t("Backups"), size="7"), rx.link(t("Back to the dashboard"), href="/dashboard")),
        form_error(B.error),
        rx.cond(
            V["instance_id"].to(int) == 0,
            rx.text(t("You have no instance yet, so there is nothing to back up. Choose a plan on your dashboard.")),
            rx.cond(
                V["supported"].to(bool),
                rx.card(
                    rx.vstack(
                        rx.hstack(
                            rx.button(
                                t("Back up now"),
                                on_click=B.back_up_now,
                                disabled=V["busy"].to(bool),
                                id="back-up-now",
                            ),
                            rx.button(t("Refresh"), variant="soft", on_click=B.load, id="refresh-backups"),
                            rx.cond(
                                V["busy"].to(bool),
                                rx.text(t("An action is running on your instance…"), size="2", role="status"),
                            ),
                            spacing="3",
                            align="center",
                        ),
                        _table(),
                        align="start",
                        width="100%",
                        spacing="4",
                    ),
                    width="100%",
                ),
                rx.text(
                    t(
                        "Backups are not available for this kind of instance yet: its host does not offer volume "
                        "backups through its API."
                    )
                ),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="56rem",
    )
