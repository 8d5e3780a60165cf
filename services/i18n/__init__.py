"""English and German: which language a person gets, the words in it, and dates, numbers and money as that
language writes them (Babel). English is the source language: its text is the message id itself."""

from services.i18n.catalog import LANGUAGES, N_, SOURCE_LANGUAGE, translate, translations
from services.i18n.formats import format_date, format_money, format_number
from services.i18n.negotiate import choose_language

__all__ = [
    "LANGUAGES",
    "N_",
    "SOURCE_LANGUAGE",
    "choose_language",
    "format_date",
    "format_money",
    "format_number",
    "translate",
    "translations",
]
