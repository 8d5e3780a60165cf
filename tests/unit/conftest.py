"""Fixtures every unit test may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from tests.support.tenants import build_tree


@pytest.fixture()
def tree(db: Session) -> Iterator[dict[str, object]]:
    yield from build_tree(db)
