"""Every page of the portal. Each declares its own route, title and on-load hooks with `layout.page`; importing
the modules here is what declares them, and `declared()` is all that portal.py needs."""

from __future__ import annotations

from portal.components.layout import DECLARED, DeclaredPage
from portal.pages.account import account, developers, invitations
from portal.pages.account import billing as billing_page
from portal.pages.account import team as customer_team
from portal.pages.admin import branding, console
from portal.pages.dashboard import backups as backups_page
from portal.pages.dashboard import dashboard
from portal.pages.public import billing, email_links, landing, login, pricing, reset, signup, verify

MODULES = (
    account,
    backups_page,
    billing_page,
    customer_team,
    developers,
    invitations,
    branding,
    console,
    dashboard,
    billing,
    email_links,
    landing,
    login,
    pricing,
    reset,
    signup,
    verify,
)


def declared() -> list[DeclaredPage]:
    return list(DECLARED)
