"""Dates, numbers and money as each language writes them (Babel's CLDR data): `$1,234.50` and `1.234,50 $`,
`07 Dec 2026` and `07 Dez. 2026`. Amounts stay integer cents until they are shown; a whole amount is shown
without its cents (`$19`, `19 $`), as prices are."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency, format_decimal

DAY = "dd MMM yyyy"  # the portal's way to write a day, in every language's month names


def format_money(cents: int, currency: str, language: str) -> str:
    # cents are hundredths (services.money, which cannot be imported here: its refusals are services.i18n messages)
    amount = Decimal(cents).scaleb(-2)
    if cents % 100:
        return format_currency(amount, currency.upper(), locale=language)
    pattern = Locale.parse(language).currency_formats["standard"].pattern
    whole = pattern.replace(".00", "").replace(",00", "")
    return format_currency(amount, currency.upper(), format=whole, locale=language, currency_digits=False)


def format_number(value: int | float | Decimal, language: str) -> str:
    return format_decimal(value, locale=language)


def format_date(value: date | datetime | None, language: str, *, with_time: bool = False, pattern: str = DAY) -> str:
    if value is None:
        return ""
    if with_time and isinstance(value, datetime):
        return babel_datetime(value, format="medium", locale=language)
    return babel_date(value, format=pattern, locale=language)
