"""Refusals services write reach the person in the language of their page (services/i18n/message.py)."""

from __future__ import annotations

import asyncio
import pickle

from portal.state.forms import attempt
from services.errors import RateLimited, ValidationFailed
from services.i18n.message import Message, localise, say

WAIT = "Too many attempts. Please wait {seconds} seconds and try again."


def test_a_message_is_its_English_text_where_text_is_expected() -> None:
    message = say(WAIT, seconds=30)
    assert message == "Too many attempts. Please wait 30 seconds and try again."
    assert isinstance(message, str) and f"{message}".startswith("Too many")


def test_it_is_said_again_from_the_template_in_another_language() -> None:
    assert localise(say(WAIT, seconds=30), "de") == (
        "Zu viele Versuche. Bitte warten Sie 30 Sekunden und versuchen Sie es dann erneut."
    )
    assert localise(say(WAIT, seconds=30), "en") == "Too many attempts. Please wait 30 seconds and try again."


def test_values_are_shown_as_given_and_nested_messages_are_localised() -> None:
    outer = say("{inner} ({name})", inner=say(WAIT, seconds=2), name="Sign in")
    assert localise(outer, "de").startswith("Zu viele Versuche")
    assert localise(outer, "de").endswith("(Sign in)")  # a value that merely looks like a text is not translated


def test_plain_fixed_text_is_looked_up_and_unknown_text_left_alone() -> None:
    assert localise("Create an account", "de") == "Konto anlegen"
    assert localise("acme-cloud", "de") == "acme-cloud"


def test_a_message_survives_copying_between_processes() -> None:
    copied = pickle.loads(pickle.dumps(say(WAIT, seconds=9)))
    assert isinstance(copied, Message) and localise(copied, "de").startswith("Zu viele Versuche. Bitte warten Sie 9")


async def _refuse(exc: Exception) -> None:
    raise exc


def test_a_form_shows_the_refusal_in_the_pages_language() -> None:
    outcome = asyncio.run(attempt(_refuse(RateLimited(12)), language="de"))
    assert outcome.errors == {"": "Zu viele Versuche. Bitte warten Sie 12 Sekunden und versuchen Sie es dann erneut."}
    outcome = asyncio.run(attempt(_refuse(ValidationFailed.single("name", say(WAIT, seconds=1))), language="en"))
    assert outcome.errors == {"name": "Too many attempts. Please wait 1 seconds and try again."}


def test_an_unexpected_failure_is_an_apology_in_the_pages_language() -> None:
    outcome = asyncio.run(attempt(_refuse(RuntimeError("db down: password=hunter2")), language="de"))
    assert outcome.errors[""].startswith("Bei uns ist etwas schiefgegangen") and "hunter2" not in outcome.errors[""]


def test_a_sellers_own_words_win_over_the_built_in_ones_in_refusals_too() -> None:
    own = {WAIT: "Slow down, please: {seconds} s.", "Create an account": "Join us"}
    assert localise(say(WAIT, seconds=3), "de", own) == "Slow down, please: 3 s."
    assert localise("Create an account", "en", own) == "Join us"
    assert localise("Sign in", "de", own) == "Anmelden"  # what the seller left alone: built in
    outcome = asyncio.run(attempt(_refuse(RateLimited(5)), language="en", words=own))
    assert outcome.errors == {"": "Slow down, please: 5 s."}
