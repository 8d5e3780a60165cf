"""Dates, numbers and money as each language writes them: `$1,234.50` and `1.234,50 $`, `7 Dec 2026` and
`07.12.2026` (Babel's CLDR data). Amounts stay integer cents until they are shown."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency, format_decimal

from services.money import CENTS_PER_UNIT


def format_money(cents: int, currency: str, language: str) -> str:
    return format_currency(Decimal(cents) / CENTS_PER_UNIT, currency.upper(), locale=language)


def format_number(value: int | float | Decimal, language: str) -> str:
    return format_decimal(value, locale=language)


def format_date(value: date | datetime, language: str, *, with_time: bool = False) -> str:
    if with_time and isinstance(value, datetime):
        return babel_datetime(value, format="medium", locale=language)
    return babel_date(value, format="medium", locale=language)
