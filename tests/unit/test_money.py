"""Money: integer cents and micros, parsed and shown one way everywhere."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.errors import ValidationFailed
from services.money import format_cents, format_micros, micros_as_decimal, parse_amount, parse_micros


@pytest.mark.parametrize(
    "cents,currency,shown",
    [(1900, "usd", "$19"), (1250, "EUR", "€12.50"), (5, "gbp", "£0.05"), (300, "chf", "CHF 3"), (0, "usd", "$0")],
)
def test_cents_are_shown_with_the_currency(cents: int, currency: str, shown: str) -> None:
    assert format_cents(cents, currency) == shown


def test_micros_are_shown_in_whole_cents_rounded_down() -> None:
    assert format_micros(1_259_999, "usd") == "$1.25"  # never more than there is
    assert micros_as_decimal(1_250_001) == Decimal("1.250001")


@pytest.mark.parametrize(
    "typed,micros", [("25", 25_000_000), ("12.50", 12_500_000), (" 0.01 ", 10_000), ("", 0), (None, 0), (7, 7_000_000)]
)
def test_a_typed_budget_becomes_micros(typed: object, micros: int) -> None:
    assert parse_micros(typed, "budget") == micros  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "typed,why",
    [
        ("abc", "such as 10"),
        ("-1", "from 0"),
        ("-0", "from 0"),
        ("NaN", "from 0"),
        ("Infinity", "from 0"),
        ("1e12", "from 0"),
        ("1.001", "2 decimal places"),
    ],
)
def test_a_bad_amount_names_the_field_and_why(typed: str, why: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_amount(typed, "budget")
    assert why in refused.value.errors["budget"]
