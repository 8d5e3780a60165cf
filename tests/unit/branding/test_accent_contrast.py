"""Text on a seller's accent is readable whatever accent they choose: the contrast ratio is WCAG 2.1's, and every
accent's solid fill gets the text colour (Radix's own, or dark) that reaches 4.5:1."""

from __future__ import annotations

import pytest

from services.admin.branding import ACCENTS
from services.branding.contrast import (
    DARK_TEXT,
    NEEDED,
    RADIX_DARK_TEXT,
    STEP_9,
    WHITE,
    accent_text,
    accent_text_css,
    contrast_ratio,
    contrast_warning,
)


def test_the_ratio_is_wcags() -> None:
    assert contrast_ratio(WHITE, "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", WHITE) == pytest.approx(4.48, abs=0.01)  # the well-known just-failing grey
    assert contrast_ratio("#3e63dd", WHITE) == contrast_ratio(WHITE, "#3e63dd")


def test_every_accent_a_seller_can_choose_gets_readable_text() -> None:
    assert set(ACCENTS) <= set(STEP_9)  # none is left without its fill
    for accent in ACCENTS:
        fill = STEP_9[accent]
        if accent in RADIX_DARK_TEXT:
            continue  # Radix writes dark text on these already
        text = accent_text(accent) or WHITE
        assert contrast_ratio(text, fill) >= NEEDED, accent


def test_white_stays_where_it_reads_and_the_editor_warns_where_it_does_not() -> None:
    assert accent_text("indigo") == "" and contrast_warning("indigo") == ""
    assert accent_text("crimson") == DARK_TEXT and accent_text("grass") == DARK_TEXT
    assert "White text on crimson reaches only 3.8:1" in contrast_warning("crimson")
    assert contrast_warning("amber") == "" and contrast_warning("not-an-accent") == ""
    css = accent_text_css()
    assert "--crimson-contrast: #000000;" in css and "--indigo-contrast" not in css
