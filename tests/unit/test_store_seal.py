"""The quiet seal (migration 9): every write to the state db is counted, the seal holds the
count it was made at, and no seal is made while work waits (issue 28)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from decliner.store import Store
from decliner.store import outbox as outbox_db
from decliner.store import seal as seal_db
from decliner.store.seal import WATCHED

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
PLAN = {"host": "127.0.0.1", "folders": ["INBOX", "Decline"]}


def _event(store: Store, event_id: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO events (id, uid, starts_at, ends_at, calendar, first_seen, updated)"
            " VALUES (?, ?, '2027-01-01T00:00:00+00:00', '2027-01-01T01:00:00+00:00', '', ?, ?)",
            (event_id, f"{event_id}@x", NOW.isoformat(), NOW.isoformat()),
        )


def test_every_table_but_the_counter_and_the_seal_counts_its_changes(tmp_path: Path) -> None:
    """A migrated db has a counting trigger per insert, update and delete on every table
    (a table a later migration adds must join WATCHED, or this fails)."""
    with Store.open(tmp_path / "state.db") as store:
        conn = store.connection
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        assert tables - {"changes", "quiet_seal"} == set(WATCHED)
        triggers = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"
                " AND name LIKE '%_counted_%'"
            )
        }
        expected = {
            (t, f"{t}_counted_{op}") for t in WATCHED for op in ("insert", "update", "delete")
        }
        assert triggers == expected


def test_a_write_anywhere_breaks_the_seal_and_sealing_is_no_write(tmp_path: Path) -> None:
    """Sealing keeps the count; an insert, an update and a delete each raise it."""
    with Store.open(tmp_path / "state.db") as store:
        with store.transaction() as conn:
            seal_db.store(conn, "digest", PLAN)
        sealed = seal_db.read(store.connection)
        assert sealed is not None
        assert (sealed.digest, sealed.plan) == ("digest", PLAN)
        assert sealed.changes == seal_db.changes(store.connection)
        before = sealed.changes
        _event(store, "e1")
        with store.transaction() as conn:
            conn.execute("UPDATE events SET summary = 'x' WHERE id = 'e1'")
        with store.transaction() as conn:
            conn.execute("DELETE FROM events WHERE id = 'e1'")
        assert seal_db.changes(store.connection) == before + 3
        with store.transaction() as conn:  # an update that changes nothing still counts
            conn.execute("UPDATE meta SET value = value WHERE key = 'schema_version'")
        assert seal_db.changes(store.connection) == before + 4


def test_no_seal_while_a_message_waits_or_a_copy_is_unfiled(tmp_path: Path) -> None:
    """A scheduled withdrawal is work a later pass must do even if nothing else changes:
    sealing then removes any seal instead; so does sealing with no plan."""
    with Store.open(tmp_path / "state.db") as store:
        with store.transaction() as conn:
            seal_db.store(conn, "digest", PLAN)
        _event(store, "e1")
        with store.transaction() as conn:
            outbox_db.schedule(conn, "e1", "withdrawal", NOW, NOW)
            assert seal_db.work_open(conn)
            seal_db.store(conn, "digest", PLAN)
        assert seal_db.read(store.connection) is None
        with store.transaction() as conn:
            conn.execute("UPDATE outbox SET state = 'cancelled', cancel_reason = 'unflagged'")
            assert not seal_db.work_open(conn)
            seal_db.store(conn, "digest", PLAN)
        assert seal_db.read(store.connection) is not None
        with store.transaction() as conn:
            seal_db.store(conn, "digest", None)
        assert seal_db.read(store.connection) is None
