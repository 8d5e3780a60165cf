"""People, their server-side sessions, single-use e-mail tokens and machine API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from services.models.base import created_field, text_field


class User(SQLModel, table=True):
    # "user" is reserved in PostgreSQL; a neutral table name keeps raw SQL and tooling simple.
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    username: str = Field(max_length=32, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    status: str = Field(default="active", max_length=20)
    email_verified_at: datetime | None = None
    totp_secret: str | None = Field(default=None, max_length=500)  # encrypted; set while enrolling
    totp_enabled_at: datetime | None = None  # two-factor sign-in is on once the first code was confirmed
    totp_last_step: int | None = None  # the last accepted 30-second step: a code is never accepted twice
    created_at: datetime = created_field()
    last_login_at: datetime | None = None
    language: str | None = Field(default=None, max_length=8)  # chosen in the header or account; None: the browser's


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the token is stored, so a database leak signs nobody in."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = created_field()
    expires_at: datetime
    revoked_at: datetime | None = None
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    impersonator_id: int | None = Field(default=None, foreign_key="user_account.id")
    # an impersonation session lives only as long as the impersonator's own session (signing out ends both)
    parent_id: int | None = Field(default=None, foreign_key="auth_session.id")


class UserToken(SQLModel, table=True):
    """Single-use, expiring token sent by e-mail (verify address, reset password, change address and its undo).
    `detail` is what the token acts on: the new address of a change, the old address of its undo."""

    __tablename__ = "user_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    purpose: str = Field(max_length=30)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = created_field()
    expires_at: datetime
    used_at: datetime | None = None
    detail: str | None = Field(default=None, max_length=254)


class Invitation(SQLModel, table=True):
    """An offer of a role in an organization, made to an e-mail address and accepted (or declined) by its owner.

    Nothing about the invitee's account changes until they accept. A person without an account gets a
    single-purpose token (only its hash is kept) that creates their account on acceptance and can do nothing else.
    """

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    email: str = Field(max_length=254, index=True)
    role: str = Field(max_length=20)
    invited_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    status: str = Field(default="pending", max_length=20, index=True)  # pending | accepted | declined | revoked
    created_at: datetime = created_field()
    expires_at: datetime
    responded_at: datetime | None = None
    user_id: int | None = Field(default=None, foreign_key="user_account.id")


class ApiToken(SQLModel, table=True):
    """A secret shown once and kept only as its hash: an instance's usage token or AI gateway key (`instance_id`
    set), or a token of the platform API acting for `created_by_user_id` in `organization_id`, limited to `scopes`
    (space-separated). An instance's keys also keep the secret encrypted (`secret_encrypted`): the platform puts
    them into the instance's environment at every deploy, so it must be able to read them back."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    instance_id: int | None = Field(default=None, foreign_key="instance.id", index=True)
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scopes: str = Field(default="", max_length=200)
    created_at: datetime = created_field()
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    secret_encrypted: str | None = text_field()


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a POST with an `Idempotency-Key`, returned again for a retry with the same key."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_token_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id", index=True)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    body: str = text_field("", nullable=False)
    created_at: datetime = created_field()
