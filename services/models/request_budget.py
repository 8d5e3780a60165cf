"""A request budget shared by every process that calls one rate-limited API (Coolify allows a token about 200
calls a minute). The database keeps it when there is no Redis, so the web processes and the job consumer of a
SQLite or PostgreSQL portal draw from one budget."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RequestBudget(SQLModel, table=True):
    __tablename__ = "request_budget"

    key: str = Field(primary_key=True, max_length=80)  # e.g. "coolify:<hash of the token>", never the token
    tokens: float = 0.0  # calls that may be sent now (a token bucket: refilled at the per-minute rate)
    updated_at: float = 0.0  # epoch seconds of the last refill
    paused_until: float = 0.0  # epoch seconds: the API answered 429 with Retry-After, nobody sends before this
