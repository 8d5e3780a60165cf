"""Taking and restoring backups of an instance's data volume.

A backup is the volume's tar stream as the engine reads it, compressed with zstd as it streams, written to the
backup store with its sha256; nothing of it is held in memory whole. A restore checks the stored object's sha256
first (a changed or truncated object is refused before anything is replaced), then the engine unpacks it into a
new volume. The provisioning engine runs both as steps (services/provisioning/steps.py), so a crash resumes them.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import zstandard
from sqlmodel import Session, col, select

from services.backups.store import BackupStore, StoreError, backup_store
from services.crypto import new_token
from services.db import session_scope
from services.errors import PermanentError, ProvisioningError
from services.models import Backup, Instance, Plan, Subscription
from services.models.base import key, utcnow

ZSTD_LEVEL = 3  # zstd's own default: what `tar | zstd` does, the benchmark's baseline
DEFAULT_KEPT = 7
COOLIFY_SAYS = (
    "Backups of Coolify instances are not available: Coolify's API backs up databases only (scheduled database "
    "backups), not an application's volumes. Use Coolify's own volume tooling for these instances."
)


class InstanceSpec(Protocol):
    """What of an instance's spec (services.provisioning.spec) a backup reads itself; the backend reads the rest."""

    @property
    def instance_id(self) -> int: ...


class VolumeBackend(Protocol):
    def data_export(self, spec: InstanceSpec, *, pause: bool = True) -> Any: ...

    def replace_data(self, spec: InstanceSpec, tar_chunks: Iterable[bytes], *, fresh: bool = False) -> None: ...


def volume_backend(backend: object) -> VolumeBackend:
    if not hasattr(backend, "data_export") or not hasattr(backend, "replace_data"):
        raise PermanentError(COOLIFY_SAYS)
    return backend


def new_backup(session: Session, instance: Instance, kind: str, backup_id: str | None = None) -> Backup:
    row = Backup(
        id=backup_id or new_token(12)[:16],
        instance_id=key(instance),
        organization_id=instance.organization_id,
        kind=kind,
    )
    session.add(row)
    session.flush()
    return row


class _Counted:
    def __init__(self) -> None:
        self.data_bytes = 0


def compress(chunks: Iterable[bytes], counted: _Counted) -> Iterator[bytes]:
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    for chunk in chunks:
        counted.data_bytes += len(chunk)
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def decompress(chunks: Iterable[bytes]) -> Iterator[bytes]:
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    for chunk in chunks:
        out = decompressor.decompress(chunk)
        if out:
            yield out


def object_key(backup: Backup) -> str:
    return f"instance-{backup.instance_id}/{backup.id}.tar.zst"


def take(backend: object, spec: InstanceSpec, backup_id: str, *, pause: bool = True) -> Backup:
    """Write the backup; its row ends complete (size, sha256) or failed (why). Safe to run again."""
    volumes = volume_backend(backend)
    with session_scope() as session:
        row = session.get(Backup, backup_id)
        if row is None:
            raise PermanentError(f"backup {backup_id} no longer exists")
        if row.status == "complete":
            return row
        store_key = object_key(row)
    store = backup_store()
    counted = _Counted()
    try:
        with volumes.data_export(spec, pause=pause) as stream:
            size, digest = store.put(store_key, compress(stream, counted))
    except StoreError as exc:
        _finish(backup_id, error=str(exc))
        raise ProvisioningError(str(exc)) from exc
    except ProvisioningError as exc:
        _finish(backup_id, error=str(exc))
        raise
    return _finish(backup_id, store=store.name, object_key=store_key, size=size, data=counted.data_bytes, digest=digest)


def _tee(chunks: Iterable[bytes], ways: int, depth: int = 8) -> list[Iterator[bytes]]:
    """The same chunks to `ways` readers, each in its own thread, read once from the source by a thread of its
    own. A reader that stops early stops the rest (its error is theirs); the source's error reaches every one."""
    lanes: list[queue.Queue[tuple[bytes | None, BaseException | None]]] = [
        queue.Queue(maxsize=depth) for _ in range(ways)
    ]
    stop = threading.Event()

    def put(
        lane: queue.Queue[tuple[bytes | None, BaseException | None]], item: tuple[bytes | None, BaseException | None]
    ) -> bool:
        while not stop.is_set():
            try:
                lane.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for chunk in chunks:
                for lane in lanes:
                    if not put(lane, (chunk, None)):
                        return
            for lane in lanes:
                put(lane, (None, None))
        except BaseException as exc:  # noqa: BLE001 - handed to every reader, raised there
            for lane in lanes:
                put(lane, (None, exc))

    def lane_of(lane: queue.Queue[tuple[bytes | None, BaseException | None]]) -> Iterator[bytes]:
        try:
            while True:
                try:
                    chunk, problem = lane.get(timeout=0.2)
                except queue.Empty:
                    if stop.is_set():
                        raise ProvisioningError("the copy was stopped by its other side") from None
                    continue
                if problem is not None:
                    raise problem
                if chunk is None:
                    return
                yield chunk
        except BaseException:
            stop.set()
            raise

    threading.Thread(target=read, name="backup-tee", daemon=True).start()
    return [lane_of(lane) for lane in lanes]


def move_data(backend: object, source: InstanceSpec, target: InstanceSpec, backup_id: str) -> Backup:
    """The source's volume into the target's new volume and, at the same time, into the store as a backup: one
    read of the source, the target filled as it streams, the kept copy written beside it (bench/capacity.py)."""
    volumes = volume_backend(backend)
    with session_scope() as session:
        row = session.get(Backup, backup_id)
        if row is None:
            raise PermanentError(f"backup {backup_id} no longer exists")
        store_key = object_key(row)
    store, counted, kept, failed = backup_store(), _Counted(), [], []
    try:
        with volumes.data_export(source, pause=False) as stream:
            to_store, to_target = _tee(stream, 2)

            def keep() -> None:
                try:
                    kept.append(store.put(store_key, compress(to_store, counted)))
                except BaseException as exc:  # noqa: BLE001 - raised below, after the target side ended
                    failed.append(exc)
                    for _ in to_store:  # drained, so the source keeps flowing to the target until it stops
                        pass

            keeper = threading.Thread(target=keep, name="backup-keeper", daemon=True)
            keeper.start()
            try:
                # into the volume prepare_target made; a retry unpacks the same stopped source again over what
                # the failed attempt left, every file of which is in the archive and so written whole again
                volumes.replace_data(target, to_target, fresh=True)
            finally:
                keeper.join()
        if failed:
            raise failed[0]
    except StoreError as exc:
        _finish(backup_id, error=str(exc))
        raise ProvisioningError(str(exc)) from exc
    except ProvisioningError as exc:
        _finish(backup_id, error=str(exc))
        raise
    size, digest = kept[0]
    return _finish(backup_id, store=store.name, object_key=store_key, size=size, data=counted.data_bytes, digest=digest)


def _finish(
    backup_id: str,
    *,
    error: str | None = None,
    store: str = "",
    object_key: str = "",
    size: int = 0,
    data: int = 0,
    digest: str = "",
) -> Backup:
    with session_scope() as session:
        row = session.get(Backup, backup_id)
        assert row is not None
        row.finished_at = utcnow()
        if error is not None:
            row.status, row.error = "failed", error[:2000]
        else:
            row.status, row.store, row.object_key = "complete", store, object_key
            row.size_bytes, row.data_bytes, row.sha256, row.error = size, data, digest, None
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def _checked(store: BackupStore, row: Backup) -> None:
    digest = hashlib.sha256()
    for chunk in store.get(row.object_key):
        digest.update(chunk)
    if digest.hexdigest() != row.sha256:
        raise PermanentError(
            f"Backup {row.id} in the store no longer matches what was written (sha256 differs): not restored."
        )


def _hashed(chunks: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def restore(backend: object, spec: InstanceSpec, backup_id: str, *, check_first: bool = True) -> None:
    """Replace the instance's data with the backup's (the container is left created, not started).

    `check_first` reads the object once to compare its sha256 before anything is replaced (a restore over the
    customer's current data); otherwise it is compared as it streams and a mismatch fails the step afterwards
    (a move into a new volume, the source still there)."""
    volumes = volume_backend(backend)
    with session_scope() as session:
        row = session.get(Backup, backup_id)
        if row is None or row.instance_id != spec.instance_id or row.status != "complete":
            raise PermanentError("That backup cannot be restored: it is not a finished backup of this instance.")
        session.expunge(row)
    store = backup_store()
    try:
        if check_first:
            _checked(store, row)
        digest = hashlib.sha256()
        # read (and hashed) by a thread of its own while this one unpacks: the store's reads overlap the work
        (chunks,) = _tee(_hashed(store.get(row.object_key), digest), 1)
        volumes.replace_data(spec, decompress(chunks), fresh=not check_first)
        if digest.hexdigest() != row.sha256:
            raise PermanentError(
                f"Backup {row.id} in the store no longer matches what was written (sha256 differs): not restored."
            )
    except StoreError as exc:
        raise ProvisioningError(str(exc)) from exc
    except zstandard.ZstdError as exc:
        raise PermanentError(f"Backup {row.id} could not be decompressed: {exc}") from exc


def kept_count(session: Session, instance: Instance) -> int:
    subscription = session.get(Subscription, instance.subscription_id) if instance.subscription_id else None
    plan = session.get(Plan, subscription.plan_id) if subscription else None
    try:
        return max(1, int((plan.limits if plan else {}).get("backups_kept") or DEFAULT_KEPT))
    except (TypeError, ValueError):
        return DEFAULT_KEPT


def forget_all(session: Session, instance: Instance) -> int:
    """An instance removed for good takes its backups with it: a deleted account's data outlives it nowhere."""
    rows = session.exec(select(Backup).where(col(Backup.instance_id) == key(instance))).all()
    store = backup_store() if rows else None
    for row in rows:
        if store is not None and row.object_key:
            store.delete(row.object_key)
        session.delete(row)
    session.flush()
    return len(rows)


def prune(session: Session, instance: Instance) -> int:
    """Keep the plan's number of newest finished backups (failed ones go too); returns how many were removed."""
    rows = session.exec(
        select(Backup).where(col(Backup.instance_id) == key(instance)).order_by(col(Backup.created_at).desc())
    ).all()
    keep = kept_count(session, instance)
    complete = [r for r in rows if r.status == "complete"]
    doomed = complete[keep:] + [r for r in rows if r.status == "failed"]
    store = backup_store() if doomed else None
    for row in doomed:
        if store is not None and row.object_key:
            try:
                store.delete(row.object_key)
            except Exception:  # noqa: BLE001 - a store hiccup leaves the object for the next pass, the row too
                continue
        session.delete(row)
    session.flush()
    return len(doomed)
