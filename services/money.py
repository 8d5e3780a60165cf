"""Money, in one place: prices are integer cents, budgets and usage cost integer micros (millionths of the
currency unit); never a float. One way to parse what a person or an instance typed, one way to show it.

Micros exist because one model call costs fractions of a cent; cents are what Stripe charges. A budget shown to
a person is rounded down to whole cents, so a display never claims more is left than there is.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say

MICROS_PER_UNIT = 1_000_000
CENTS_PER_UNIT = 100
MICROS_PER_CENT = MICROS_PER_UNIT // CENTS_PER_UNIT
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def format_cents(cents: int, currency: str) -> str:
    """`$19`, `€12.50`, `CHF 3` (an unknown currency is shown by its code)."""
    symbol = SYMBOLS.get(currency.lower(), currency.upper() + " ")
    whole, minor = divmod(cents, CENTS_PER_UNIT)
    return f"{symbol}{whole}" if minor == 0 else f"{symbol}{whole}.{minor:02d}"


def shown_cents(micros: int) -> int:
    """What a person is shown of an amount in micros: whole cents, rounded down (never more than there is)."""
    return micros // MICROS_PER_CENT


def format_micros(micros: int, currency: str) -> str:
    """A budget or a cost as a person reads it: whole cents, rounded down."""
    return format_cents(shown_cents(micros), currency)


def micros_as_decimal(micros: int) -> Decimal:
    """Exact, for APIs and exports (`1.250001`)."""
    return Decimal(micros) / MICROS_PER_UNIT


def decimal_to_micros(amount: Decimal) -> int:
    return int(amount * MICROS_PER_UNIT)


def parse_amount(text: str | int | None, field: str, *, places: int = 2, maximum: int = 10_000_000) -> Decimal:
    """An amount a person typed (`10`, `12.50`): 0 or more, at most `places` decimals. ValidationFailed names the
    field otherwise."""
    raw = str(text if text is not None else "").strip() or "0"
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed.single(field, N_("must be an amount such as 10 or 12.50")) from None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int) or amount.is_signed() or amount > maximum:
        raise ValidationFailed.single(field, say("must be an amount from 0 to {maximum:,}", maximum=maximum))
    if exponent < -places:
        raise ValidationFailed.single(field, say("must have at most {places} decimal places", places=places))
    return amount


def parse_micros(text: str | int | None, field: str) -> int:
    """A budget typed in currency units (`25`, `12.50`), as micros."""
    return decimal_to_micros(parse_amount(text, field))
