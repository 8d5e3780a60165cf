"""Raw usage reported by instances and its per-day rollup (what dashboards read)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models.base import created_field

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class UsageRecord(SQLModel, table=True):
    __tablename__ = "usage_record"
    __table_args__ = (
        UniqueConstraint("instance_id", "idempotency_key", name="uq_usage_instance_key"),
        Index("ix_usage_record_instance_occurred", "instance_id", "occurred_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True))
    instance_id: int = Field(foreign_key="instance.id")
    model: str = Field(max_length=100)
    tokens_in: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    tokens_out: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_micros: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    occurred_at: datetime
    idempotency_key: str = Field(max_length=100)
    received_at: datetime = created_field()


class UsageDaily(SQLModel, table=True):
    __tablename__ = "usage_daily"
    __table_args__ = (UniqueConstraint("instance_id", "day", "model", name="uq_usage_daily_instance_day_model"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="instance.id", index=True)
    day: date
    model: str = Field(max_length=100)
    tokens_in: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    tokens_out: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_micros: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    records: int = 0
