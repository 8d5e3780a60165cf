"""Shared column helpers. Timestamps are timezone-aware UTC (sqlmodel's UTCDateTime refuses naive ones)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


def text_field(default: str | None = None, nullable: bool = True) -> Any:
    return Field(default=default, sa_column=Column(Text, nullable=nullable))


def created_field() -> Any:
    return Field(default_factory=utcnow, nullable=False)
