"""Where backups are kept: a folder on the portal's host (the default) or an S3-compatible bucket (boto3).

Both take a stream of chunks and give one back, so a 200 MB volume never sits in memory, and both answer the same
way (the tests run the same cases against a folder and against an S3 endpoint).
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from services.config import get_settings

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1024 * 1024


class StoreError(RuntimeError):
    """The store could not be written or read: the backup is marked failed with this message."""


class BackupStore(Protocol):
    name: str

    def put(self, key: str, chunks: Iterable[bytes]) -> tuple[int, str]:
        """Write the object; returns its size and sha256."""
        ...

    def get(self, key: str) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...


class _Hashing:
    """Counts and hashes the chunks as they go by."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.size = 0
        self.digest = hashlib.sha256()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            self.digest.update(chunk)
            yield chunk


class FolderStore:
    name = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StoreError(f"refusing a key outside the backup folder: {key!r}")
        return path

    def put(self, key: str, chunks: Iterable[bytes]) -> tuple[int, str]:
        """Written by a thread of its own while this one makes the next chunks (reading the volume, compressing):
        hashing and writing overlap with them instead of following them. Flushed to disk before it counts."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        digest, size, failed = hashlib.sha256(), 0, []
        pending: queue.Queue[bytes | None] = queue.Queue(maxsize=8)

        def write() -> None:
            nonlocal size
            try:
                with open(partial, "wb") as out:
                    while (chunk := pending.get()) is not None:
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                failed.append(exc)
                while pending.get() is not None:  # keep taking, so the producer never blocks on a dead writer
                    pass

        writer = threading.Thread(target=write, name="backup-writer", daemon=True)
        writer.start()
        try:
            for chunk in chunks:
                pending.put(chunk)
        except BaseException:  # the volume could not be read: no half-written object stays behind
            pending.put(None)
            writer.join()
            partial.unlink(missing_ok=True)
            raise
        pending.put(None)
        writer.join()
        try:
            if failed:
                raise failed[0]
            partial.replace(path)  # a crash leaves a .partial, never a truncated backup under the real name
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"could not write the backup: {exc}") from exc
        return size, digest.hexdigest()

    def get(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise StoreError(f"the backup is not in the store: {key}")
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class _ChunkReader(io.RawIOBase):
    """A file-like view of a chunk iterator, for boto3's multipart upload."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._left = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._left:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                return 0
        view = memoryview(buffer).cast("B")  # any writable buffer, as bytes
        size = min(len(view), len(self._left))
        view[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


class S3Store:
    name = "s3"

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        import boto3  # loaded only by portals that keep backups in S3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, config=Config(retries={"max_attempts": 3}, connect_timeout=5)
        )

    def put(self, key: str, chunks: Iterable[bytes]) -> tuple[int, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        hashing = _Hashing(chunks)
        try:
            self.client.upload_fileobj(
                io.BufferedReader(_ChunkReader(iter(hashing)), CHUNK), self.bucket, self.prefix + key
            )
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"could not write the backup to S3: {exc}") from exc
        return hashing.size, hashing.digest.hexdigest()

    def get(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"]
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"the backup is not in the store: {exc}") from exc
        yield from body.iter_chunks(CHUNK)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


def backup_store() -> BackupStore:
    settings = get_settings()
    if settings.backup_store == "s3":
        if not settings.backup_s3_bucket:
            raise StoreError("BACKUP_STORE=s3 needs BACKUP_S3_BUCKET")
        return S3Store(settings.backup_s3_bucket, settings.backup_s3_prefix, settings.backup_s3_endpoint_url)
    return FolderStore(settings.backup_dir or settings.var_dir / "backups")
