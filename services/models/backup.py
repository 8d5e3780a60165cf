"""Snapshots of an instance's data volume, kept in the backup store (a folder or an S3 bucket)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from services.models.base import created_field, text_field

BACKUP_KINDS = ("scheduled", "manual", "pre-restore", "migration")


class Backup(SQLModel, table=True):
    __tablename__ = "backup"

    id: str = Field(primary_key=True, max_length=32)  # random: it names the object in the store
    instance_id: int = Field(foreign_key="instance.id", index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    kind: str = Field(default="manual", max_length=20)
    status: str = Field(default="pending", max_length=20, index=True)  # pending | complete | failed
    store: str = Field(default="", max_length=20)  # folder | s3: where the object was written
    object_key: str = Field(default="", max_length=300)
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # compressed, as stored
    data_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))  # the tar before compression
    sha256: str = Field(default="", max_length=64)  # of the stored object: a restore refuses a changed one
    error: str | None = text_field()
    created_at: datetime = created_field()
    finished_at: datetime | None = None
