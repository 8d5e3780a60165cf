"""Whether text on a brand's accent can be read: WCAG 2.1's contrast ratio of the solid accent (Radix Colors'
step 9, which solid buttons and badges are filled with) against white and against near-black text.

Radix writes white on most accents, and white on crimson, grass, blue or orange falls under the 4.5:1 that text
of a button's size needs (axe: color-contrast). Where dark text reads better, the portal uses it
(`accent_text`, set on the brand's theme) and the branding editor says so before the seller saves.
"""

from __future__ import annotations

WHITE = "#ffffff"
DARK_TEXT = "#000000"  # black: the themes' own darkest text (slate 12) still falls short on crimson or gold
NEEDED = 4.5  # WCAG 2.1 AA for text under 18.66 px bold / 24 px

# Radix Colors, light scale, step 9 ("solid backgrounds"); dark mode's step 9 is the same hue within a few percent
STEP_9 = {
    "tomato": "#e54d2e",
    "red": "#e5484d",
    "ruby": "#e54666",
    "crimson": "#e93d82",
    "pink": "#d6409f",
    "plum": "#ab4aba",
    "purple": "#8e4ec6",
    "violet": "#6e56cf",
    "iris": "#5b5bd6",
    "indigo": "#3e63dd",
    "blue": "#0090ff",
    "cyan": "#00a2c7",
    "teal": "#12a594",
    "jade": "#29a383",
    "green": "#30a46c",
    "grass": "#46a758",
    "brown": "#ad7f58",
    "orange": "#f76b15",
    "sky": "#7ce2fe",
    "mint": "#86ead4",
    "lime": "#bdee63",
    "yellow": "#ffe629",
    "amber": "#ffc53d",
    "gold": "#978365",
    "bronze": "#a18072",
    "gray": "#8d8d8d",
}
# Radix already writes dark text on these (their --accent-contrast is dark)
RADIX_DARK_TEXT = frozenset({"sky", "mint", "lime", "yellow", "amber"})


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance of an #rrggbb colour."""
    red, green, blue = (int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def accent_text(accent: str) -> str:
    """The text colour to write on this accent's solid fill: "" keeps Radix's own (it passes), else dark text."""
    fill = STEP_9.get(accent)
    if fill is None or accent in RADIX_DARK_TEXT or contrast_ratio(WHITE, fill) >= NEEDED:
        return ""
    return DARK_TEXT


def contrast_warning(accent: str) -> str:
    """What the branding editor says of an accent white text cannot be read on ("" when it can)."""
    fill = STEP_9.get(accent)
    if fill is None or accent in RADIX_DARK_TEXT:
        return ""
    white = contrast_ratio(WHITE, fill)
    if white >= NEEDED:
        return ""
    return (
        f"White text on {accent} reaches only {white:.1f}:1, under the {NEEDED:g}:1 text needs to be read by "
        f"everyone. Buttons and badges in this accent use dark text instead ({contrast_ratio(DARK_TEXT, fill):.1f}:1)."
    )


def accent_text_css() -> str:
    """Dark text on every accent white cannot be read on: Radix resolves a theme's --accent-contrast from
    --<accent>-contrast, set here on the theme element so it wins over Radix's :root value in both modes."""
    rules = " ".join(f"--{accent}-contrast: {accent_text(accent)};" for accent in STEP_9 if accent_text(accent))
    return f".radix-themes {{ {rules} }}"
