"""Shared column helpers. Timestamps are timezone-aware UTC (sqlmodel's UTCDateTime refuses naive ones)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Column, Table, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


def text_field(default: str | None = None, nullable: bool = True) -> Any:
    return Field(default=default, sa_column=Column(Text, nullable=nullable))


def created_field() -> Any:
    return Field(default_factory=utcnow, nullable=False)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for statements SQLModel has no typed form of (bulk inserts, CTEs)."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass, not declared
    return table


class _Stored(Protocol):
    id: int | None


def key(row: _Stored) -> int:
    """A stored row's id. Rows get their id when flushed; using one before that is a bug, said loudly here
    instead of a None slipping into a foreign key."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return row.id


def upsert_insert(session: Any, model: type[SQLModel]) -> Any:
    """An INSERT on `model`'s table in the dialect of the session's database, so `on_conflict_do_*` is available:
    PostgreSQL and SQLite spell it the same, but each needs its own dialect's construct."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table_of(model))
