"""The state database: file modes, durability settings, migrations, transactions, the lock."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from decliner.core.plan.events import event_id
from decliner.errors import LockedError, RuntimeFailure
from decliner.store import MIGRATIONS, Store, iso_utc
from decliner.store import schema as store_module

NOW = "2025-03-01T09:00:00+00:00"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "decliner.db"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def add_event(conn: sqlite3.Connection, uid: str, recurrence_id: str = "") -> str:
    eid = event_id(uid, recurrence_id)
    conn.execute(
        "INSERT INTO events (id, uid, recurrence_id, starts_at, calendar, first_seen, updated)"
        " VALUES (?, ?, ?, ?, 'BEGIN:VCALENDAR', ?, ?)",
        (eid, uid, recurrence_id, NOW, NOW, NOW),
    )
    return eid


def add_withdrawal(conn: sqlite3.Connection, eid: str, message_id: str) -> None:
    conn.execute(
        "INSERT INTO outbox (event_id, kind, message_id, raw, state, due, created)"
        " VALUES (?, 'withdrawal', ?, X'00', 'pending', ?, ?)",
        (eid, message_id, NOW, NOW),
    )


def child(code: str) -> subprocess.Popen[str]:
    """A separate Python process running `code` with the store module importable."""
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_files_are_private_under_a_permissive_umask(db: Path, permissive_umask: None) -> None:
    """The db, its -wal and -shm files and the lock file are 0600, new parents 0700."""
    with Store.open(db) as store:
        with store.transaction() as conn:
            add_event(conn, "a@example.com")
        store.lock_daemon()
        files = [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", ".lock"))]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(db.parent) == 0o700


def test_an_existing_wider_db_is_tightened(db: Path) -> None:
    """A db file found with group/other access is narrowed to 0600 at open."""
    db.parent.mkdir()
    db.touch(mode=0o644)
    db.chmod(0o644)
    Store.open(db).close()
    assert mode(db) == 0o600


def test_wal_and_full_sync_are_in_effect(db: Path) -> None:
    """The connection runs in WAL mode with synchronous=FULL, foreign keys and a busy timeout."""
    with Store.open(db) as store:
        conn = store.connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.isolation_level is None


def test_migrations_run_once(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each migration runs exactly once; re-opening an up-to-date db changes nothing."""
    counting = "CREATE TABLE IF NOT EXISTS runs (n INTEGER); INSERT INTO runs VALUES (1);"
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, counting])
    for _ in range(3):
        with Store.open(db) as store:
            assert store.schema_version() == len(MIGRATIONS) + 1
            assert store.connection.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_concurrent_first_opens_migrate_once(db: Path) -> None:
    """Several processes opening a new db at once all succeed; the schema is built once."""
    code = (
        "from pathlib import Path; from decliner.store import Store\n"
        f"s = Store.open(Path({str(db)!r})); print(s.schema_version()); s.close()\n"
    )
    procs = [child(code) for _ in range(6)]
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6
    assert outputs == [f"{len(MIGRATIONS)}\n"] * 6


def test_a_failing_migration_changes_nothing(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that fails is rolled back whole, and the version stays where it was."""
    Store.open(db).close()
    broken = "CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);"
    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(RuntimeFailure, match="no such table: nowhere"):
        Store.open(db)
    monkeypatch.undo()
    with Store.open(db) as store:
        assert store.schema_version() == len(MIGRATIONS)
        tables = store.connection.execute("SELECT name FROM sqlite_master WHERE name = 'half'")
        assert tables.fetchall() == []


def test_a_newer_schema_is_refused(db: Path) -> None:
    """A db written by a newer decliner is refused with a message saying to upgrade."""
    with Store.open(db) as store:
        store.set_meta("schema_version", str(len(MIGRATIONS) + 1))
    expected = (
        f"state db schema version {len(MIGRATIONS) + 1} is newer than this decliner"
        f" ({len(MIGRATIONS)}); upgrade decliner"
    )
    for opener in (Store.open, Store.open_readonly):
        with pytest.raises(RuntimeFailure) as caught:
            opener(db)
        assert str(caught.value) == expected


def test_a_file_that_is_not_a_database_is_a_runtime_failure(db: Path) -> None:
    """A corrupt db file gives a one-line RuntimeFailure naming the path, not a traceback."""
    db.parent.mkdir()
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RuntimeFailure, match=f"cannot open state db {db}"):
        Store.open(db)


def test_a_failed_transaction_leaves_nothing(db: Path) -> None:
    """An exception inside `transaction()` rolls back every statement of the block."""
    with Store.open(db) as store:
        # The block is the transaction under test: it must hold several statements.
        with pytest.raises(ZeroDivisionError), store.transaction() as conn:  # noqa: PT012 -- the block is the transaction
            add_event(conn, "a@example.com")
            store.set_meta("k", "v")
            _ = 1 / 0
        assert store.connection.execute("SELECT count(*) FROM events").fetchone()[0] == 0
        assert store.get_meta("k") is None
        assert not store.in_transaction()


def test_transactions_do_not_nest(db: Path) -> None:
    """Opening a transaction inside another is an error, and the outer one is rolled back."""
    with Store.open(db) as store:
        with (  # noqa: PT012 -- the outer transaction under test holds the inner one
            pytest.raises(RuntimeError, match="do not nest"),
            store.transaction() as conn,
        ):
            add_event(conn, "a@example.com")
            with store.transaction():
                pass
        assert store.connection.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_one_withdrawal_per_event_ever(db: Path) -> None:
    """UNIQUE(event_id, kind) refuses a second withdrawal for the same event."""
    with Store.open(db) as store, store.transaction() as conn:
        eid = add_event(conn, "a@example.com")
        add_withdrawal(conn, eid, "<1@example.com>")
        with pytest.raises(sqlite3.IntegrityError, match=r"outbox\.event_id, outbox\.kind"):
            add_withdrawal(conn, eid, "<2@example.com>")


def test_sent_messages_are_final(db: Path) -> None:
    """A sent outbox row cannot go back to another state, change its bytes, or be deleted."""
    with Store.open(db) as store, store.transaction() as conn:
        eid = add_event(conn, "a@example.com")
        add_withdrawal(conn, eid, "<1@example.com>")
        conn.execute("UPDATE outbox SET state = 'sent'")
        for sql in (
            "UPDATE outbox SET state = 'pending'",
            "UPDATE outbox SET raw = X'01'",
            "UPDATE outbox SET message_id = '<3@example.com>'",
            "DELETE FROM outbox",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="outbox: "):
                conn.execute(sql)


def test_an_event_without_recurrence_id_is_unique(db: Path) -> None:
    """Two rows for the same UID with no RECURRENCE-ID ('' not NULL) are refused."""
    with Store.open(db) as store, store.transaction() as conn:
        add_event(conn, "a@example.com")
        add_event(conn, "a@example.com", "2025-03-08T09:00:00+00:00")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO events (id, uid, starts_at, calendar, first_seen, updated)"
                " VALUES ('other', 'a@example.com', ?, '', ?, ?)",
                (NOW, NOW, NOW),
            )


def test_the_daemon_lock_is_exclusive_across_processes(db: Path) -> None:
    """A second process cannot take the lock (LockedError names the holder's pid) until close."""
    Store.open(db).close()
    holder = child(
        "import sys; from pathlib import Path; from decliner.store import Store\n"
        f"s = Store.open(Path({str(db)!r})); s.lock_daemon(); print('locked', flush=True)\n"
        "sys.stdin.readline(); s.close(); print('closed', flush=True); sys.stdin.readline()\n"
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "locked\n"
        with Store.open(db) as store:
            with pytest.raises(LockedError) as caught:
                store.lock_daemon()
            assert str(caught.value) == (
                f"another decliner is already running on {db} (pid {holder.pid})"
            )
            assert caught.value.exit_code == 1
            holder.stdin.write("close\n")
            holder.stdin.flush()
            assert holder.stdout.readline() == "closed\n"
            store.lock_daemon()  # the holder is still alive, but has closed its store
    finally:
        holder.kill()
        holder.communicate()


def test_a_killed_daemon_leaves_committed_data_and_no_lock(db: Path) -> None:
    """SIGKILL mid-transaction: committed rows survive, uncommitted ones vanish, the lock is free."""
    Store.open(db).close()
    victim = child(
        "import sys; from pathlib import Path; from decliner.store import Store\n"
        f"s = Store.open(Path({str(db)!r})); s.lock_daemon()\n"
        "with s.transaction(): s.set_meta('committed', 'yes')\n"
        "s.connection.execute('BEGIN IMMEDIATE'); s.set_meta('uncommitted', 'yes')\n"
        "print('mid-transaction', flush=True); sys.stdin.readline()\n"
    )
    assert victim.stdout is not None
    try:
        assert victim.stdout.readline() == "mid-transaction\n"
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.communicate()
        assert victim.returncode == -signal.SIGKILL
    with Store.open(db) as store:
        store.lock_daemon()
        assert store.get_meta("committed") == "yes"
        assert store.get_meta("uncommitted") is None
        assert store.schema_version() == len(MIGRATIONS)


def test_event_ids_are_short_and_stable() -> None:
    """The CLI's short id depends only on UID and RECURRENCE-ID, and tells instances apart."""
    assert event_id("a@example.com") == event_id("a@example.com", "")
    assert len(event_id("a@example.com")) == 12
    assert event_id("a@example.com") != event_id("a@example.com", "2025-03-08T09:00:00+00:00")
    assert event_id("ab", "c") != event_id("a", "bc")


def test_instants_are_stored_in_utc_to_the_second() -> None:
    """`iso_utc` writes any aware datetime as UTC text that sorts as time, and refuses naive ones."""
    paris = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2025, 3, 1, 10, 0, 0, 123, tzinfo=paris)) == NOW
    with pytest.raises(ValueError, match="naive"):
        iso_utc(datetime(2025, 3, 1, 10, 0))  # noqa: DTZ001 -- naive on purpose


def test_daemon_pid_reports_the_lock_holder(db: Path) -> None:
    """daemon_pid() names the process holding the lock from another process, and None once it is free."""
    with Store.open(db) as store:
        assert store.daemon_pid() is None
    holder = child(
        "import sys\nfrom pathlib import Path\nfrom decliner.store import Store\n"
        f"s = Store.open(Path({str(db)!r})); s.lock_daemon(); print('locked', flush=True)\n"
        "sys.stdin.readline()\n"  # holds the lock until the test is done with it
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with Store.open(db) as store:
            assert store.daemon_pid() == holder.pid
    finally:
        holder.kill()
        holder.communicate()
    with Store.open(db) as store:
        assert store.daemon_pid() is None


def test_a_readonly_store_cannot_write(db: Path) -> None:
    """SPEC 16: a read-only open sees the data, and any write is refused by SQLite itself."""
    with Store.open(db) as store:
        store.set_meta("k", "v")
    with Store.open_readonly(db) as store:
        assert store.get_meta("k") == "v"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.set_meta("k", "w")


def test_a_readonly_store_of_a_db_not_made_yet_is_empty_and_creates_nothing(db: Path) -> None:
    with Store.open_readonly(db) as store:
        assert store.last_sync() is None
    assert not db.exists() and not db.parent.joinpath(db.name + "-wal").exists()


def test_a_readonly_store_refuses_an_older_schema(db: Path) -> None:
    """An old db is not upgraded by a read: the message says how to upgrade it."""
    with Store.open(db) as store:
        store.set_meta("schema_version", str(len(MIGRATIONS) - 1))
    with pytest.raises(RuntimeFailure, match="run --once"):
        Store.open_readonly(db)
