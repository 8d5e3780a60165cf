"""The username is the instance's subdomain, so it follows DNS label rules plus our reserved names."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from services.models import Instance, Organization, User
from services.tenancy.hostnames import username_is_a_portal_host

MIN_LENGTH = 3
MAX_LENGTH = 32
_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

# The single list of names no customer may take (infrastructure, our own pages, confusable words).
RESERVED_NAMES = frozenset(
    {
        "www",
        "api",
        "admin",
        "administrator",
        "app",
        "apps",
        "mail",
        "email",
        "smtp",
        "imap",
        "pop",
        "mx",
        "billing",
        "status",
        "portal",
        "dashboard",
        "console",
        "login",
        "logout",
        "signup",
        "register",
        "auth",
        "account",
        "accounts",
        "support",
        "help",
        "docs",
        "blog",
        "static",
        "assets",
        "cdn",
        "media",
        "files",
        "ftp",
        "ns",
        "ns1",
        "ns2",
        "dns",
        "root",
        "system",
        "internal",
        "test",
        "staging",
        "dev",
        "demo",
        "webhook",
        "webhooks",
        "stripe",
        "coolify",
        "traefik",
        "proxy",
        "health",
        "metrics",
        "grafana",
        "security",
        "abuse",
        "postmaster",
        "hostmaster",
        "noreply",
        "no-reply",
        "reseller",
        "resellers",
        "platform",
        "localhost",
        "null",
        "undefined",
    }
)


def normalise(username: str) -> str:
    return username.strip().lower()


def username_format_problem(username: str) -> str | None:
    if len(username) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(username) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if not _PATTERN.match(username):
        if username.startswith("-") or username.endswith("-"):
            return "The username cannot start or end with a hyphen."
        return "Use only lowercase letters a-z, digits and hyphens."
    if username in RESERVED_NAMES:
        return "This name is reserved. Please choose another."
    if len(username) >= 4 and username[2:4] == "--":  # xn-- (punycode) and every other reserved ACE prefix
        return "A username cannot have two hyphens as its third and fourth characters (as in xn--)."
    return None


def username_taken(session: Session, username: str) -> bool:
    """Taken as an account, an organization slug, an instance subdomain, or as the host of a portal domain
    (`<username>.<BASE_DOMAIN>` already answering as a seller's portal): all of these share one namespace."""
    for column in (col(User.username), col(Organization.slug), col(Instance.subdomain)):
        if session.exec(select(column).where(column == username).limit(1)).first() is not None:
            return True
    return username_is_a_portal_host(session, username)


def username_problem(session: Session, raw: str) -> str | None:
    """What the sign-up form shows while the user types (None means available)."""
    username = normalise(raw)  # subdomains are case-insensitive, so "Alice" simply becomes "alice"
    problem = username_format_problem(username)
    if problem:
        return problem
    if username_taken(session, username):
        return "This username is already taken."
    return None
