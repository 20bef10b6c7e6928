"""The quiet seal: what a pass that left nothing to do saw, for the next `run --once`.

`changes.n` counts every write to the state db (migration 9's triggers); a seal holds
the count at the moment it was set, the digest of the config then validated and the
plan of the check (JSON: the IMAP server, login and folders, no secret). While the
count is the same, nothing was flagged, scheduled or read since.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

WATCHED = (
    "meta",
    "folders",
    "messages",
    "events",
    "flags",
    "outbox",
    "thread",
    "maildir_keys",
    "maildir_folders",
    "calendars",
    "calendar_objects",
)
"""Every table whose change `changes.n` counts: all but the counter and the seal."""


def _counted(table: str) -> str:
    return "\n".join(
        f"CREATE TRIGGER {table}_counted_{op.lower()} AFTER {op} ON {table}"  # noqa: S608 -- WATCHED's names
        " BEGIN UPDATE changes SET n = n + 1; END;"
        for op in ("INSERT", "UPDATE", "DELETE")
    )


MIGRATION = (
    """
    CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
    INSERT INTO changes (id, n) VALUES (1, 0);
    CREATE TABLE quiet_seal (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        changes INTEGER NOT NULL,
        digest TEXT NOT NULL,
        plan TEXT NOT NULL
    );
    """  # noqa: S608 -- the triggers' table names are WATCHED's constants
    + "\n".join(_counted(table) for table in WATCHED)
)
"""Migration 9: the counter, the seal, and the triggers that count."""

_OPEN_WORK = (
    "SELECT 1 FROM outbox WHERE state IN ('scheduled', 'pending')"
    " OR (state = 'sent' AND copied = 0) LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class Seal:
    """A stored seal: the change count and config digest it holds, and its plan."""

    changes: int
    digest: str
    plan: dict[str, Any]


def changes(conn: sqlite3.Connection) -> int:
    """How many writes the state db has had since migration 9."""
    row = conn.execute("SELECT n FROM changes WHERE id = 1").fetchone()
    return int(row[0])


def work_open(conn: sqlite3.Connection) -> bool:
    """Whether any message or calendar update waits to go, or a sent copy to be filed:
    then a later pass has something to do even if nothing else changes."""
    return conn.execute(_OPEN_WORK).fetchone() is not None


def read(conn: sqlite3.Connection) -> Seal | None:
    """The stored seal, if any."""
    row = conn.execute("SELECT changes, digest, plan FROM quiet_seal WHERE id = 1").fetchone()
    if row is None:
        return None
    return Seal(int(row[0]), str(row[1]), json.loads(row[2]))


def store(conn: sqlite3.Connection, digest: str, plan: dict[str, Any] | None) -> None:
    """Inside a transaction: seal the db as it is now with `plan`, or break the seal
    (None, or work is open). Writing the seal is not itself a counted change."""
    conn.execute("DELETE FROM quiet_seal")
    if plan is None or work_open(conn):
        return
    conn.execute(
        "INSERT INTO quiet_seal (id, changes, digest, plan) VALUES (1, ?, ?, ?)",
        (changes(conn), digest, json.dumps(plan, sort_keys=True)),
    )
