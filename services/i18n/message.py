"""Messages services write for a person (refusals, validation errors) that a page shows in that person's language.

A service raises `ValidationFailed.single("name", say("{name} is taken.", name=name))`. The message is an
ordinary str (its English text), so logs, the API and tests read it as before; it also remembers its template
and values, so the page that shows it can say it again in German (`localise`). The template is marked for the
catalogue like `N_` (tests/unit/test_translations.py extracts `say` too, and fails on a template without German).
Values are shown as given (a name, a host), except messages (`status=say(label)`), amounts (`Amount(cents,
currency)`) and dates, which are said, formatted and written the way the language shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.i18n.catalog import SOURCE_LANGUAGE, translate
from services.i18n.formats import DAY, format_date, format_money


@dataclass(frozen=True)
class Amount:
    """Money in a message: `$19` in English, `19 $` in German (Babel), whichever language shows it."""

    cents: int
    currency: str


Words = Mapping[str, str]  # a seller's own texts in one language, by the English text they replace


def _said(language: str, text: str, own: Words | None) -> str:
    """The seller's own words for `text` when it has some, else the language's built-in translation."""
    return (own or {}).get(text) or translate(language, text)


@dataclass(frozen=True)
class Day:
    """A day (or month: `pattern`) in a message or a table: written as the language writes it; English as text."""

    value: date
    pattern: str = DAY

    def __str__(self) -> str:
        return format_date(self.value, SOURCE_LANGUAGE, pattern=self.pattern)


def _value(value: object, language: str, own: Words | None = None) -> object:
    if isinstance(value, Message):
        return value.in_language(language, own)
    if isinstance(value, Day):
        return format_date(value.value, language, pattern=value.pattern)
    if isinstance(value, Amount):
        return format_money(value.cents, value.currency, language)
    if isinstance(value, date):
        return format_date(value, language)
    return value


class Message(str):
    """English text made from a marked template; `in_language` makes it again from the template's translation."""

    template: str
    values: Mapping[str, object]

    def __new__(cls, template: str, values: Mapping[str, object]) -> Message:
        english = {name: _value(value, SOURCE_LANGUAGE) for name, value in values.items()}
        text = super().__new__(cls, template.format(**english) if values else template)
        text.template, text.values = template, dict(values)
        return text

    def __reduce__(self) -> tuple[type[Message], tuple[str, Mapping[str, object]]]:
        return Message, (self.template, self.values)  # copied and pickled as a message, not as its English

    def in_language(self, language: str, own: Words | None = None) -> str:
        values = {name: _value(value, language, own) for name, value in self.values.items()}
        translated = _said(language, self.template, own)
        try:
            return translated.format(**values) if values else translated
        except (KeyError, IndexError, ValueError):  # a translation naming a value the template has not: English
            return str.__str__(self)


def say(template: str, /, **values: object) -> Message:
    """The message `template` with `values` in it, in English now and in any language where it is shown."""
    return Message(template, values)


def localise(text: object, language: str, own: Words | None = None) -> object:
    """A message, amount or date in `language`; plain text as it is in the catalogue (a fixed English sentence);
    anything else unchanged. `own`: the seller's own words in that language, which win over the built-in ones."""
    if isinstance(text, str) and not isinstance(text, Message):
        return _said(language, text, own)
    return _value(text, language, own)


def localise_values(values: Mapping[str, object], language: str) -> dict[str, object]:
    """An e-mail's values in `language`: its messages, amounts and dates; names, links and numbers as they are."""
    return {name: _value(value, language) for name, value in values.items()}


def localise_all(messages: Mapping[str, str], language: str, own: Words | None = None) -> dict[str, str]:
    """A form's messages (field -> message) in `language`, in the seller's own words where it has some."""
    return {field: str(localise(message, language, own)) for field, message in messages.items()}
