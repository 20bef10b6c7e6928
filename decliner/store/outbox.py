"""The outbox: our messages, each stored before it is tried, and every try recorded.

Each function is one step of the sending protocol and runs inside the caller's
transaction, so "the block exited" means "this step is on disk".
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from decliner.core.plan.outbox import CalendarChange, OutboxRow, RowKey, RowKind
from decliner.store.db import iso_utc

_COLUMNS = (
    "id, event_id, kind, state, due, message_id, in_reply_to, refs, to_addrs, cc_addrs,"
    " subject, raw, attempts, last_error, last_attempt, last_outcome, sent_at,"
    " cancel_reason, copied, created, action, covers"
)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _row(r: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=r["id"],
        event_id=r["event_id"],
        kind=r["kind"],
        state=r["state"],
        due=datetime.fromisoformat(r["due"]),
        message_id=r["message_id"],
        in_reply_to=r["in_reply_to"],
        references=tuple(json.loads(r["refs"])),
        to=tuple(json.loads(r["to_addrs"])),
        cc=tuple(json.loads(r["cc_addrs"])),
        subject=r["subject"],
        raw=r["raw"],
        attempts=r["attempts"],
        last_error=r["last_error"],
        last_attempt=_when(r["last_attempt"]),
        last_outcome=r["last_outcome"],
        sent_at=_when(r["sent_at"]),
        cancel_reason=r["cancel_reason"],
        copied=bool(r["copied"]),
        created=datetime.fromisoformat(r["created"]),
        change=r["action"],
        covers=tuple(json.loads(r["covers"])),
    )


def rows(conn: sqlite3.Connection, event_id: str | None = None) -> list[OutboxRow]:
    """Every outbox row (of one event), oldest first."""
    query = f"SELECT {_COLUMNS} FROM outbox"  # noqa: S608 -- constant column list
    if event_id is None:
        return [_row(r) for r in conn.execute(query + " ORDER BY created, id")]
    return [
        _row(r)
        for r in conn.execute(query + " WHERE event_id = ? ORDER BY created, id", (event_id,))
    ]


def row_id(conn: sqlite3.Connection, key: RowKey) -> int | None:
    """The id of the row `key` addresses, if it exists."""
    found = conn.execute(
        "SELECT id FROM outbox WHERE event_id = ? AND kind = ?", (key.event_id, key.kind)
    ).fetchone()
    return None if found is None else int(found["id"])


def planned_row_id(conn: sqlite3.Connection, key: RowKey) -> int:
    """The id of a row a plan names: planned in a committed transaction, so it exists."""
    found = row_id(conn, key)
    if found is None:
        raise LookupError(f"no outbox row for {key}")
    return found


def get(conn: sqlite3.Connection, row_id: int) -> OutboxRow:
    """One row by id."""
    found = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (row_id,)).fetchone()  # noqa: S608 -- constant column list
    if found is None:
        raise KeyError(row_id)
    return _row(found)


def schedule(
    conn: sqlite3.Connection,
    event_id: str,
    kind: RowKind,
    due: datetime,
    now: datetime,
    *,
    change: CalendarChange | None = None,
    to: tuple[str, ...] = (),
) -> int | None:
    """A new row waiting for `due`, or None when the event has one of this kind already
    (UNIQUE(event_id, kind)): a pass and a CLI command planning at once make one row.
    A calendar row names its `change` (decline or delete) and the calendar in `to`."""
    cursor = conn.execute(
        "INSERT INTO outbox (event_id, kind, state, due, created, action, to_addrs)"
        " VALUES (?, ?, 'scheduled', ?, ?, ?, ?) ON CONFLICT (event_id, kind) DO NOTHING",
        (event_id, kind, iso_utc(due), iso_utc(now), change, json.dumps(list(to))),
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


def reschedule(conn: sqlite3.Connection, row_id: int, due: datetime) -> None:
    """A cancelled, never-rendered row waits again (the flag was set again)."""
    conn.execute(
        "UPDATE outbox SET state = 'scheduled', due = ?, cancel_reason = NULL"
        " WHERE id = ? AND state = 'cancelled' AND raw IS NULL",
        (iso_utc(due), row_id),
    )


def cancel(conn: sqlite3.Connection, row_id: int, reason: str) -> None:
    """Cancel a row that was never tried."""
    conn.execute(
        "UPDATE outbox SET state = 'cancelled', cancel_reason = ?"
        " WHERE id = ? AND state IN ('scheduled', 'pending') AND attempts = 0",
        (reason, row_id),
    )


def store_rendered(
    conn: sqlite3.Connection,
    row_id: int,
    *,
    message_id: str,
    raw: bytes,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    subject: str,
    in_reply_to: str,
    references: tuple[str, ...],
    covers: tuple[str, ...] = (),
) -> bool:
    """The exact bytes every attempt will send: stored, and the row made pending; with a
    process letter, the other events it withdraws from, fixed with its words.

    False if the row was no longer waiting (another process rendered or cancelled it).
    """
    cursor = conn.execute(
        "UPDATE outbox SET state = 'pending', message_id = ?, raw = ?, to_addrs = ?, cc_addrs = ?,"
        " subject = ?, in_reply_to = ?, refs = ?, covers = ? WHERE id = ? AND state = 'scheduled'",
        (
            message_id,
            raw,
            json.dumps(to),
            json.dumps(cc),
            subject,
            in_reply_to,
            json.dumps(references),
            json.dumps(covers),
            row_id,
        ),
    )
    return cursor.rowcount == 1


def start_update(conn: sqlite3.Connection, row_id: int) -> None:
    """A calendar row has nothing to render: scheduled becomes pending as its first try starts."""
    conn.execute(
        "UPDATE outbox SET state = 'pending' WHERE id = ? AND state = 'scheduled'"
        " AND kind = 'calendar'",
        (row_id,),
    )


def set_target(conn: sqlite3.Connection, row_id: int, url: str) -> None:
    """The calendar that holds the event (a calendar row's `to`)."""
    conn.execute("UPDATE outbox SET to_addrs = ? WHERE id = ?", (json.dumps([url]), row_id))


def not_found(conn: sqlite3.Connection, row_id: int, url: str) -> None:
    """A calendar row whose event is not in the calendar: nothing to do, and no error."""
    conn.execute(
        "UPDATE outbox SET state = 'cancelled', cancel_reason = 'not_in_calendar',"
        " last_error = NULL, to_addrs = ? WHERE id = ? AND state = 'pending'",
        (json.dumps([url]), row_id),
    )


def begin_attempt(conn: sqlite3.Connection, row_id: int, now: datetime) -> bool:
    """Count an attempt before it starts; its outcome stays unknown until `finish_attempt`.

    False if the row is no longer pending (another process cancelled or sent it): no attempt.
    """
    cursor = conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_attempt = ?, last_outcome = NULL"
        " WHERE id = ? AND state = 'pending'",
        (iso_utc(now), row_id),
    )
    return cursor.rowcount == 1


def finish_attempt(
    conn: sqlite3.Connection,
    row_id: int,
    *,
    outcome: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record how an attempt ended: sent, failed for good, or to retry at `retry_at`."""
    if outcome == "sent":
        conn.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, last_outcome = 'sent', last_error = NULL"
            " WHERE id = ? AND state = 'pending'",
            (iso_utc(now), row_id),
        )
    elif outcome == "permanent":
        conn.execute(
            "UPDATE outbox SET state = 'failed', last_outcome = 'permanent', last_error = ?"
            " WHERE id = ? AND state = 'pending'",
            (error, row_id),
        )
    else:
        conn.execute(
            "UPDATE outbox SET last_outcome = ?, last_error = ?, due = ? WHERE id = ? AND state = 'pending'",
            (outcome, error, iso_utc(retry_at or now), row_id),
        )


def retry_now(conn: sqlite3.Connection, now: datetime) -> int:
    """Make due at `now` every message whose last try failed for a passing reason (a 4xx,
    the server out of reach, a sign-in missing), instead of at the end of its backoff:
    after a new sign-in. A try cut during DATA is left as it is (its retry first looks in
    the sent folder, at its own time). How many rows."""
    stamp = iso_utc(now)
    done = conn.execute(
        "UPDATE outbox SET due = ? WHERE state = 'pending' AND last_outcome = 'temporary'"
        " AND due > ?",
        (stamp, stamp),
    )
    return done.rowcount


def mark_copied(conn: sqlite3.Connection, row_id: int) -> None:
    """The sent folder holds our copy of this message."""
    conn.execute("UPDATE outbox SET copied = 1 WHERE id = ?", (row_id,))


def due(conn: sqlite3.Connection, kind: RowKind, now: datetime) -> list[OutboxRow]:
    """Rows of this kind waiting (scheduled or pending) whose time has come, oldest first."""
    query = (
        f"SELECT {_COLUMNS} FROM outbox WHERE kind = ? AND state IN ('scheduled', 'pending')"  # noqa: S608 -- constant column list
        " AND due <= ? ORDER BY due, id"
    )
    return [_row(r) for r in conn.execute(query, (kind, iso_utc(now)))]


def uncopied(conn: sqlite3.Connection) -> list[OutboxRow]:
    """Sent messages whose copy in the sent folder is not yet made."""
    query = f"SELECT {_COLUMNS} FROM outbox WHERE state = 'sent' AND copied = 0 ORDER BY id"  # noqa: S608 -- constant column list
    return [_row(r) for r in conn.execute(query)]


def event_ids(conn: sqlite3.Connection) -> set[str]:
    """The events with any outbox row."""
    return {r["event_id"] for r in conn.execute("SELECT DISTINCT event_id FROM outbox")}


def our_message_ids(conn: sqlite3.Connection) -> dict[str, str]:
    """Message-ID -> event id of every message we stored, to recognise replies."""
    return {
        r["message_id"]: r["event_id"]
        for r in conn.execute(
            "SELECT message_id, event_id FROM outbox WHERE message_id IS NOT NULL"
        )
    }
