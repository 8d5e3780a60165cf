"""Side effects wait for the real commit: a released savepoint is not one, a rolled-back savepoint drops its own."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from services.db import after_commit
from services.models import Organization, OrgKind


def test_a_side_effect_asked_for_inside_a_savepoint_runs_only_after_the_outer_commit(db: Session) -> None:
    ran: list[str] = []
    db.add(Organization(name="Outer", slug="outer", kind=OrgKind.CUSTOMER))
    after_commit(db, lambda: ran.append("outer"))
    with db.begin_nested():
        db.add(Organization(name="Inner", slug="inner", kind=OrgKind.CUSTOMER))
        after_commit(db, lambda: ran.append("inner"))
    assert ran == []  # the savepoint was released, but nothing is committed yet
    db.commit()
    assert ran == ["outer", "inner"]


def test_a_rolled_back_savepoint_drops_only_its_own_side_effects(db: Session) -> None:
    ran: list[str] = []
    after_commit(db, lambda: ran.append("kept"))
    with pytest.raises(RuntimeError), db.begin_nested():
        after_commit(db, lambda: ran.append("dropped"))
        raise RuntimeError("handler failed")
    db.commit()
    assert ran == ["kept"]


def test_an_outer_rollback_drops_everything(db: Session) -> None:
    ran: list[str] = []
    db.add(Organization(name="Gone", slug="gone", kind=OrgKind.CUSTOMER))
    after_commit(db, lambda: ran.append("never"))
    db.rollback()
    db.commit()
    assert ran == []
