"""Engine and sessions. SQLite by default (file under var/), PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from services.config import get_settings

_engines: dict[str, Engine] = {}


SQLITE_BUSY_TIMEOUT_MS = 30_000


def get_engine(url: str | None = None, *, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """One engine per URL. `sqlite_busy_timeout_ms=0` gives a separate SQLite engine whose caller waits for the
    write lock itself (SQLite's own busy handler sleeps up to 100 ms at a time and can starve a writer)."""
    url = url or get_settings().database_url
    key = (
        url
        if sqlite_busy_timeout_ms == SQLITE_BUSY_TIMEOUT_MS or not url.startswith("sqlite")
        else f"{url}#busy={sqlite_busy_timeout_ms}"
    )
    if key not in _engines:
        _engines[key] = _create_engine(url, sqlite_busy_timeout_ms)
    return _engines[key]


def _create_engine(url: str, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000})
        event.listen(engine, "connect", lambda conn, record: _sqlite_pragmas(conn, sqlite_busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    # WAL lets the web process read while the job consumer writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a commit survives a crash of the process, not necessarily a power cut (then the last
    # commits may be lost). PostgreSQL is the choice where that matters; see README.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error (no half-written rows)."""
    session = Session(get_engine(url), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction commits; drop it if the transaction rolls back.

    Used for side effects outside the database (enqueue a job, send an e-mail) that must never happen for a
    change that was not saved. Only the outermost commit counts: SQLAlchemy also reports a released SAVEPOINT
    (`begin_nested()`) as a commit, and a job queued then could run before the data is visible, or for a change
    that the outer transaction then rolls back. A rolled-back savepoint drops only what was asked for inside it.
    """
    pending: list[tuple[Any, Callable[[], None]]] = session.info.setdefault("after_commit", [])
    if not session.info.get("after_commit_hooks"):
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_soft_rollback", _drop_rolled_back)
        session.info["after_commit_hooks"] = True
    pending.append((session.get_nested_transaction() or session.get_transaction(), callback))


def _run_pending(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint was released; the real commit is to come
        return
    # The data is committed; a failing side effect (queue unreachable) must not turn that into an error.
    # Whatever it was for is picked up again by the periodic jobs that look for unfinished work.
    for _transaction, callback in session.info.pop("after_commit", []):
        try:
            callback()
        except Exception:
            logging.getLogger(__name__).exception("after-commit side effect failed; the periodic jobs will retry")


def _drop_rolled_back(session: Session, previous_transaction: Any) -> None:
    pending = session.info.get("after_commit", [])
    session.info["after_commit"] = [(tx, cb) for tx, cb in pending if not _inside(tx, previous_transaction)]


def _inside(registered: Any, ended: Any) -> bool:
    """Was the callback registered in `ended` or in a savepoint within it?"""
    if registered is None:  # registered before any transaction began: it belongs to the outermost one
        return ended.parent is None
    while registered is not None:
        if registered is ended:
            return True
        registered = registered.parent
    return False
