"""A seller's own words: per language, their text in place of any built-in one of their portal (the pages and the
refusals they show). What is not replaced falls back to the built-in text of that language.

The replacement is plain text (React shows it as text, never as markup), at most MAX_LENGTH characters, and keeps
what the built-in text holds for the page to fill in (`{name}`) or show literally (`<token>`); a seller keeps at
most MAX_PER_LANGUAGE of them per language.
"""

from __future__ import annotations

import unicodedata
from string import Formatter

from sqlmodel import Session

from services import audit
from services.admin.branding import own_branding, seller_for_branding
from services.errors import ValidationFailed
from services.i18n import LANGUAGES, N_
from services.i18n.catalog import known_texts
from services.i18n.message import say
from services.tenancy.scope import Actor

MAX_LENGTH = 500
MAX_PER_LANGUAGE = 300
KEPT_MARKS = ("{", "}", "<", ">", "%s", "\n")


def check_word(language: str, text: str, replacement: str) -> str:
    """The cleaned replacement ("" removes it), or ValidationFailed naming the field."""
    if language not in LANGUAGES:
        raise ValidationFailed.single("language", say("must be one of {choices}", choices=", ".join(LANGUAGES)))
    if text not in known_texts():
        raise ValidationFailed.single("text", N_("Choose one of the portal's own texts (the suggestions list them)."))
    clean = replacement.strip()
    if len(clean) > MAX_LENGTH:
        raise ValidationFailed.single("replacement", say("at most {limit} characters", limit=MAX_LENGTH))
    if any(unicodedata.category(c) in ("Cc", "Cf") and c != "\n" for c in clean):
        raise ValidationFailed.single("replacement", N_("Use plain text, without control characters."))
    if clean and (any(clean.count(mark) != text.count(mark) for mark in KEPT_MARKS) or _fields(clean) != _fields(text)):
        raise ValidationFailed.single(
            "replacement", N_("Keep what the original holds in braces or angle brackets, exactly as often.")
        )
    return clean


def _fields(text: str) -> list[tuple[str, str, str]] | None:
    """The values a text has filled in, as str.format reads them: the same names, nothing reached through them
    (`{amount.__class__}`), no other conversion or format; None for text str.format cannot read."""
    try:
        fields = [(name, conversion or "", spec or "") for _, name, spec, conversion in Formatter().parse(text) if name]
    except ValueError:
        return None
    return sorted(fields)


def save_word(
    session: Session,
    actor: Actor | None,
    organization_id: int,
    language: str,
    text: str,
    replacement: str,
    *,
    ip: str = "",
) -> dict[str, dict[str, str]]:
    """Set (or with "" remove) the seller's own text for `text` in `language`; returns all of their words."""
    org, checked = seller_for_branding(session, actor, organization_id, "branding.words")
    clean = check_word(language, text, replacement)
    branding = own_branding(session, org)
    words = {lang: dict(own) for lang, own in (branding.words or {}).items() if isinstance(own, dict)}
    own = words.setdefault(language, {})
    if clean:
        if text not in own and len(own) >= MAX_PER_LANGUAGE:
            raise ValidationFailed.single("text", say("at most {limit} texts per language", limit=MAX_PER_LANGUAGE))
        own[text] = clean
    else:
        own.pop(text, None)
    branding.words = {lang: own for lang, own in words.items() if own}  # a new dict, so the JSON column is written
    session.add(branding)
    audit.record(
        session,
        "branding.words",
        actor_label=checked.email,
        target=("organization", org.id),
        organization_id=org.id,
        ip=ip,
        details={"language": language, "text": text[:120], "removed": not clean},
    )
    return branding.words


def texts_in(language: str, built_in: dict[str, str], words: dict[str, dict[str, str]] | None) -> dict[str, str]:
    """What a page looks its texts up in: the language's built-in translations, then the seller's own words."""
    return {**built_in, **((words or {}).get(language) or {})}
