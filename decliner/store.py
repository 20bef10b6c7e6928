"""The state database: SQLite in WAL mode, one file per account, mode 0600.

Everything decliner must remember across restarts lives here, so that a message
goes out at most once, ever (SPEC behaviour 5). Schema (version 1):

``meta(key PK, value)``
    ``schema_version`` = number of `MIGRATIONS` applied.
``folders(name PK, uidvalidity, uidnext, highestmodseq, synced)``
    Per IMAP folder: messages below ``uidnext`` have been read; a different
    ``uidvalidity`` means rescan. ``highestmodseq`` is NULL without CONDSTORE.
``messages(folder -> folders, uid, message_id; PK(folder, uid))``
    Messages already read; deleted with their folder row on a rescan.
``events(id PK, uid, recurrence_id, ...; UNIQUE(uid, recurrence_id))``
    One row per invitation instance. ``id`` is `event_id(uid, recurrence_id)`,
    the short id the CLI shows. ``recurrence_id`` is ``''`` (never NULL, since
    NULLs are distinct in UNIQUE) for a whole event. ``sequence``, ``summary``,
    ``starts_at``/``ends_at`` (``end`` is an SQL keyword), ``all_day``,
    ``location``, ``organizer_email/_name``, ``attendee_email`` (the user's
    address the invite named), ``recipient_email/_name`` (NULL: needs a
    recipient), ``invite_folder/_uid/_message_id/_subject/_references`` (what
    the withdrawal replies to), ``calendar`` (the raw VCALENDAR, for the iTIP
    REPLY), ``cancelled_by_organizer``, ``status`` (the status the last pass
    computed, cached for the CLI; one of SPEC's ``invites`` statuses),
    ``first_seen``, ``updated``.
``flags(event_id -> events, source, reason, to_addr, first_seen; PK(event_id, source))``
    Why an event is flagged; ``source`` is config, keyword, folder or cli.
``outbox(id PK, event_id -> events, kind, message_id UNIQUE, ...; UNIQUE(event_id, kind))``
    Our messages. ``kind`` is withdrawal or followup, and UNIQUE(event_id, kind)
    is the "at most one of each per event, ever" guarantee: a cancelled row is
    revived by UPDATE, never replaced. ``state``: scheduled (waiting for
    ``due``; ``raw`` may be NULL) -> pending (``raw`` bytes and ``message_id``
    stored before the first attempt; ``due`` is the next try) -> sent | failed;
    scheduled -> cancelled. Triggers make ``sent`` final and the stored bytes and
    Message-ID immutable. ``to_addrs``/``cc_addrs`` are JSON arrays;
    ``in_reply_to``, ``subject``, ``attempts``, ``last_error``,
    ``last_attempt``, ``sent_at``, ``created``.
``thread(id PK, event_id -> events, message_id UNIQUE, in_reply_to, from_addr, to_addrs, cc_addrs, subject, date, folder, uid)``
    Inbound replies to our messages (the log's ``direction: "in"``).

Times are ISO 8601 UTC strings from `iso_utc`, so they compare as text.
Connections use ``isolation_level=None``: a statement outside `Store.transaction`
commits on its own, and every multi-statement change goes through it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from decliner.errors import LockedError, RuntimeFailure

__all__ = ["MIGRATIONS", "Store", "event_id", "iso_utc"]

BUSY_TIMEOUT_MS = 5000
_SECRET_MODE = 0o600

MIGRATIONS: list[str] = [
    # 1: the initial schema, described in the module docstring.
    """
    CREATE TABLE folders (
        name          TEXT PRIMARY KEY,
        uidvalidity   INTEGER,
        uidnext       INTEGER,
        highestmodseq INTEGER,
        synced        TEXT
    );
    CREATE TABLE messages (
        folder     TEXT NOT NULL REFERENCES folders(name) ON DELETE CASCADE,
        uid        INTEGER NOT NULL,
        message_id TEXT,
        PRIMARY KEY (folder, uid)
    );
    CREATE TABLE events (
        id                     TEXT PRIMARY KEY,
        uid                    TEXT NOT NULL,
        recurrence_id          TEXT NOT NULL DEFAULT '',
        sequence               INTEGER NOT NULL DEFAULT 0,
        summary                TEXT NOT NULL DEFAULT '',
        starts_at              TEXT NOT NULL,
        ends_at                TEXT,
        all_day                INTEGER NOT NULL DEFAULT 0 CHECK (all_day IN (0, 1)),
        location               TEXT,
        organizer_email        TEXT,
        organizer_name         TEXT,
        attendee_email         TEXT,
        recipient_email        TEXT,
        recipient_name         TEXT,
        invite_folder          TEXT,
        invite_uid             INTEGER,
        invite_message_id      TEXT,
        invite_subject         TEXT,
        invite_references      TEXT,
        calendar               TEXT NOT NULL,
        status                 TEXT NOT NULL DEFAULT 'upcoming' CHECK (status IN (
            'upcoming', 'flagged', 'withdrawn', 'confirmed', 'cancelled_by_organizer',
            'needs_recipient', 'past', 'missed')),
        cancelled_by_organizer INTEGER NOT NULL DEFAULT 0 CHECK (cancelled_by_organizer IN (0, 1)),
        first_seen             TEXT NOT NULL,
        updated                TEXT NOT NULL,
        UNIQUE (uid, recurrence_id)
    );
    CREATE TABLE flags (
        event_id   TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        source     TEXT NOT NULL CHECK (source IN ('config', 'keyword', 'folder', 'cli')),
        reason     TEXT,
        to_addr    TEXT,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (event_id, source)
    );
    CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        event_id     TEXT NOT NULL REFERENCES events(id),
        kind         TEXT NOT NULL CHECK (kind IN ('withdrawal', 'followup')),
        message_id   TEXT UNIQUE,
        in_reply_to  TEXT,
        to_addrs     TEXT NOT NULL DEFAULT '[]',
        cc_addrs     TEXT NOT NULL DEFAULT '[]',
        subject      TEXT NOT NULL DEFAULT '',
        raw          BLOB,
        state        TEXT NOT NULL CHECK (state IN (
            'scheduled', 'pending', 'sent', 'failed', 'cancelled')),
        due          TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        last_attempt TEXT,
        sent_at      TEXT,
        created      TEXT NOT NULL,
        UNIQUE (event_id, kind),
        CHECK (state IN ('scheduled', 'cancelled') OR (raw IS NOT NULL AND message_id IS NOT NULL))
    );
    CREATE INDEX outbox_due ON outbox (state, due);
    CREATE TRIGGER outbox_sent_is_final BEFORE UPDATE ON outbox
    WHEN OLD.state = 'sent' AND NEW.state IS NOT 'sent'
    BEGIN SELECT RAISE(ABORT, 'outbox: a sent message stays sent'); END;
    CREATE TRIGGER outbox_sent_is_kept BEFORE DELETE ON outbox
    WHEN OLD.state IN ('pending', 'sent')
    BEGIN SELECT RAISE(ABORT, 'outbox: a pending or sent message is never deleted'); END;
    CREATE TRIGGER outbox_bytes_are_final BEFORE UPDATE OF raw, message_id ON outbox
    WHEN OLD.raw IS NOT NULL
         AND (NEW.raw IS NOT OLD.raw OR NEW.message_id IS NOT OLD.message_id)
    BEGIN SELECT RAISE(ABORT, 'outbox: stored bytes and Message-ID never change'); END;
    CREATE TABLE thread (
        id          INTEGER PRIMARY KEY,
        event_id    TEXT NOT NULL REFERENCES events(id),
        message_id  TEXT UNIQUE,
        in_reply_to TEXT,
        from_addr   TEXT,
        to_addrs    TEXT NOT NULL DEFAULT '[]',
        cc_addrs    TEXT NOT NULL DEFAULT '[]',
        subject     TEXT,
        date        TEXT,
        folder      TEXT,
        uid         INTEGER
    );
    CREATE INDEX thread_event ON thread (event_id);
    """,
]


def event_id(uid: str, recurrence_id: str = "") -> str:
    """The short id of an event instance: 12 hex digits of SHA-1 over UID and RECURRENCE-ID.

    Twelve rather than eight so that a collision (which the primary key would
    turn into a lost invite) stays out of reach; the CLI accepts any unique prefix.
    """
    return hashlib.sha1(f"{uid}\0{recurrence_id}".encode(), usedforsecurity=False).hexdigest()[:12]


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
            store._configure()
            store._migrate()
            store._tighten_sidecars()
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, OSError | sqlite3.Error):
                raise RuntimeFailure(f"cannot open state db {path}: {exc}") from exc
            raise
        return store

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
        while (version := self.schema_version()) < len(MIGRATIONS):
            with self.transaction() as conn:
                # Re-read under the write lock: another process may have migrated.
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                if self.schema_version() != version:
                    continue
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
                self.set_meta("schema_version", str(version + 1))
        if version > len(MIGRATIONS):
            raise RuntimeFailure(
                f"state db schema version {version} is newer than this decliner"
                f" ({len(MIGRATIONS)}); upgrade decliner"
            )

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

    def close(self) -> None:
        """Close the connection and release the daemon lock; closing twice is harmless."""
        self._conn.close()
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Store:
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
