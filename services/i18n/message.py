"""Messages services write for a person (refusals, validation errors) that a page shows in that person's language.

A service raises `ValidationFailed.single("name", say("{name} is taken.", name=name))`. The message is an
ordinary str (its English text), so logs, the API and tests read it as before; it also remembers its template
and values, so the page that shows it can say it again in German (`localise`). The template is marked for the
catalogue like `N_` (tests/unit/test_translations.py extracts `say` too, and fails on a template without German).
Values are shown as given (a name, a host, a status), except values that are messages themselves, which are
localised too (`say("... {status} ...", status=say(label))`).
"""

from __future__ import annotations

from collections.abc import Mapping

from services.i18n.catalog import translate


class Message(str):
    """English text made from a marked template; `in_language` makes it again from the template's translation."""

    template: str
    values: Mapping[str, object]

    def __new__(cls, template: str, values: Mapping[str, object]) -> Message:
        text = super().__new__(cls, template.format(**values) if values else template)
        text.template, text.values = template, dict(values)
        return text

    def __reduce__(self) -> tuple[type[Message], tuple[str, Mapping[str, object]]]:
        return Message, (self.template, self.values)  # copied and pickled as a message, not as its English

    def in_language(self, language: str) -> str:
        values = {k: v.in_language(language) if isinstance(v, Message) else v for k, v in self.values.items()}
        translated = translate(language, self.template)
        try:
            return translated.format(**values) if values else translated
        except (KeyError, IndexError, ValueError):  # a translation naming a value the template has not: English
            return str.__str__(self)


def say(template: str, /, **values: object) -> Message:
    """The message `template` with `values` in it, in English now and in any language where it is shown."""
    return Message(template, values)


def localise(text: object, language: str) -> object:
    """A message in `language`; plain text as it is in the catalogue (a fixed English sentence), else unchanged."""
    if isinstance(text, Message):
        return text.in_language(language)
    if isinstance(text, str):
        return translate(language, text)
    return text


def localise_all(messages: Mapping[str, str], language: str) -> dict[str, str]:
    """A form's messages (field -> message) in `language`."""
    return {field: str(localise(message, language)) for field, message in messages.items()}
