"""The state database mechanism: SQLite in WAL mode, file mode 0600, migrations, lock.

Connections use ``isolation_level=None``: a statement outside `Store.transaction`
commits on its own, and every multi-statement change goes through it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from decliner.errors import LockedError, RuntimeFailure
from decliner.store import schema

BUSY_TIMEOUT_MS = 5000
_LOCKED_RETRIES = 20
_SECRET_MODE = 0o600


def iso_utc(when: datetime) -> str:
    """How the database stores an instant: ISO 8601 in UTC to the second."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: the state db stores instants only")
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _make_private(path: Path) -> None:
    """Create the missing parents of `path` (0700) and `path` itself (0600), no wider window."""
    missing = [p for p in reversed(path.parents) if not p.exists()]
    for parent in missing:
        with contextlib.suppress(FileExistsError):
            parent.mkdir(mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, _SECRET_MODE)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, _SECRET_MODE)
    finally:
        os.close(fd)


def _newer_schema(version: int) -> str:
    return (
        f"state db schema version {version} is newer than this decliner"
        f" ({len(schema.MIGRATIONS)}); upgrade decliner"
    )


class Store:
    """An open state database; use `Store.open`, and close it (or use `with`)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._lock_fd: int | None = None

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating if needed) the db at `path` and bring its schema up to date."""
        conn: sqlite3.Connection | None = None
        try:
            _make_private(path)
            conn = sqlite3.connect(path, isolation_level=None)
            store = cls(path, conn)
            store._retry_when_locked(store._configure)
            store._retry_when_locked(store._migrate)
            store._tighten_sidecars()
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, OSError | sqlite3.Error):
                raise RuntimeFailure(f"cannot open state db {path}: {exc}") from exc
            raise
        return store

    @classmethod
    def open_readonly(cls, path: Path) -> Store:
        """Open the db at `path` so that no write is possible (SPEC 16: reads never write).

        A db not created yet reads as an empty one, kept in memory; one whose schema
        is older than this decliner must first be upgraded by a pass.
        """
        if not path.exists():
            store = cls(path, sqlite3.connect(":memory:", isolation_level=None))
            store._conn.row_factory = sqlite3.Row
            store._migrate()
            return store
        conn = None
        try:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            store = cls(path, conn)
            version = store.schema_version()
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise RuntimeFailure(f"cannot read state db {path}: {exc}") from exc
        if version != len(schema.MIGRATIONS):
            conn.close()
            raise RuntimeFailure(
                _newer_schema(version)
                if version > len(schema.MIGRATIONS)
                else f"state db {path} is from an older decliner: `decliner run --once` (or"
                " restarting the daemon) upgrades it"
            )
        return store

    def _retry_when_locked(self, step: Callable[[], None]) -> None:
        # Switching to WAL and the first migration need a write lock that SQLite
        # may refuse at once, without its busy handler, to avoid a deadlock
        # between processes opening a new db together; they just try again.
        for attempt in range(_LOCKED_RETRIES):
            try:
                step()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == _LOCKED_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
            else:
                return

    def _configure(self) -> None:
        conn = self._conn
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeFailure(f"state db {self.path}: cannot use WAL (journal_mode={mode})")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")

    def _tighten_sidecars(self) -> None:
        # SQLite's unix VFS gives -wal/-shm the db file's permission bits whatever
        # the umask (and recreates them that way after a checkpoint deletes them);
        # this only repairs files left wider by something else.
        for sidecar in (self.path.with_name(self.path.name + s) for s in ("-wal", "-shm")):
            with contextlib.suppress(FileNotFoundError):
                if sidecar.stat().st_mode & 0o077:
                    sidecar.chmod(_SECRET_MODE)

    def _migrate(self) -> None:
        while (version := self.schema_version()) < len(schema.MIGRATIONS):
            with self.transaction() as conn:
                # Re-read under the write lock: another process may have migrated.
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                if self.schema_version() != version:
                    continue
                for statement in _statements(schema.MIGRATIONS[version]):
                    conn.execute(statement)
                self.set_meta("schema_version", str(version + 1))
        if version > len(schema.MIGRATIONS):
            raise RuntimeFailure(_newer_schema(version))

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection, for queries; change data only inside `transaction`."""
        return self._conn

    def schema_version(self) -> int:
        """How many migrations this db has had (0 for a new file)."""
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        value = self.get_meta("schema_version") if exists else None
        return int(value) if value is not None else 0

    def get_meta(self, key: str) -> str | None:
        """The value stored under `key` in `meta`, or None."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        """Store `value` under `key` in `meta` (atomic on its own, or part of a transaction)."""
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""
        return self._conn.in_transaction

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, or `ROLLBACK` if the block raises.

        Nesting is an error, not a savepoint: the outbox protocol relies on
        "the block has exited, so it is on disk", which an inner block cannot promise.
        """
        if self.in_transaction():
            raise RuntimeError("state db transactions do not nest")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            if self.in_transaction():  # SQLite may have rolled back already
                self._conn.execute("ROLLBACK")
            raise

    @property
    def lock_path(self) -> Path:
        """The daemon's lock file, next to the db."""
        return self.path.with_name(self.path.name + ".lock")

    def lock_daemon(self) -> None:
        """Become the one daemon on this db, or raise `LockedError` naming the holder's pid.

        A non-blocking `flock` on ``<db>.lock``; the kernel drops it when this
        store closes or the process dies, so a crash never leaves it stale.
        """
        if self._lock_fd is not None:
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, _SECRET_MODE)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, _SECRET_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(
                f"another decliner is already running on {self.path} (pid {holder})"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def daemon_pid(self) -> int | None:
        """The pid of the daemon holding this db's lock, or None when none runs."""
        if self._lock_fd is not None:
            return os.getpid()
        try:
            fd = os.open(self.lock_path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        finally:
            os.close(fd)  # closing also drops the probe's own shared lock
        return None

    def last_sync(self) -> datetime | None:
        """When a pass last read a folder, if ever."""
        row = self._conn.execute("SELECT max(synced) AS synced FROM folders").fetchone()
        return datetime.fromisoformat(row["synced"]) if row and row["synced"] else None

    def close(self) -> None:
        """Close the connection and release the daemon lock; closing twice is harmless."""
        self._conn.close()
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _statements(script: str) -> Iterator[str]:
    """Split an SQL script into statements (triggers included).

    `executescript` would do, but on Python 3.11 it commits first, which would
    split a migration from its version bump.
    """
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]}")
