"""After a new sign-in, messages whose last try failed for a passing reason are due at
once rather than at the end of their backoff; a try cut during DATA keeps its own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from decliner.store import Store, iso_utc
from decliner.store import outbox as outbox_db

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)


def _row(store: Store, uid: str, kind: str, outcome: str | None, due: datetime) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO events (id, uid, starts_at, ends_at, calendar, first_seen,"
            " updated) VALUES (?, ?, '2027-01-01T00:00:00+00:00', '2027-01-01T01:00:00+00:00',"
            " '', ?, ?)",
            (uid, uid, iso_utc(NOW), iso_utc(NOW)),
        )
        conn.execute(
            "INSERT INTO outbox (event_id, kind, message_id, raw, state, due, created, attempts,"
            " last_outcome) VALUES (?, ?, ?, X'00', 'pending', ?, ?, 1, ?)",
            (uid, kind, f"<{uid}.{kind}@x>", iso_utc(due), iso_utc(NOW), outcome),
        )


def _dues(store: Store) -> dict[tuple[str, str], str]:
    rows = store.connection.execute("SELECT event_id, kind, due FROM outbox")
    return {(r["event_id"], r["kind"]): r["due"] for r in rows}


def test_only_passing_failures_waiting_their_backoff_are_made_due(tmp_path: Path) -> None:
    with Store.open(tmp_path / "state.db") as store:
        _row(store, "a", "withdrawal", "temporary", LATER)  # refused for the sign-in
        _row(store, "b", "withdrawal", "cut", LATER)  # looks in the sent folder first
        _row(store, "c", "withdrawal", None, LATER)  # a try in flight or cut by a crash
        _row(store, "d", "withdrawal", "temporary", NOW - timedelta(minutes=1))  # due already
        with store.transaction() as conn:
            assert outbox_db.retry_now(conn, NOW) == 1
        assert _dues(store) == {
            ("a", "withdrawal"): iso_utc(NOW),
            ("b", "withdrawal"): iso_utc(LATER),
            ("c", "withdrawal"): iso_utc(LATER),
            ("d", "withdrawal"): iso_utc(NOW - timedelta(minutes=1)),
        }
