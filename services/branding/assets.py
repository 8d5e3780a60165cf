"""Where sellers' uploaded brand images live and how a request names one (no path tricks possible)."""

from __future__ import annotations

import re
from pathlib import Path

from services.config import get_settings

ASSET_ROUTE = "/api/brand-assets/"
ASSET_NAME = re.compile(r"^([0-9]+)-[0-9a-f]{16}\.(png|jpg|gif|webp)$")


def asset_dir() -> Path:
    return get_settings().var_dir / "brand-assets"


def asset_path(name: str) -> Path | None:
    """The stored file for a brand asset name, or None for anything that is not one (no path tricks)."""
    if not ASSET_NAME.match(name):
        return None
    path = asset_dir() / name
    return path if path.is_file() else None
