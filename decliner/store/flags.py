"""Flags in the state db: when each flag was first seen, and the CLI's own flags."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from decliner.store.db import iso_utc


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason an event is flagged."""

    event_id: str
    source: str
    reason: str
    to: str
    first_seen: datetime


def all_flags(conn: sqlite3.Connection) -> list[Flag]:
    """Every stored flag."""
    rows = conn.execute(
        "SELECT event_id, source, reason, to_addr, first_seen FROM flags ORDER BY first_seen"
    )
    return [
        Flag(
            r["event_id"],
            r["source"],
            r["reason"] or "",
            r["to_addr"] or "",
            datetime.fromisoformat(r["first_seen"]),
        )
        for r in rows
    ]


Key = tuple[str, str]  # (event id, source)


def _derived_changes(
    stored: set[Key], current: Mapping[str, list[str]]
) -> tuple[set[Key], set[Key]]:
    """(gone, new): the derived flags to delete and to add so the store matches `current`."""
    wanted = {
        (eid, source) for eid, sources in current.items() for source in sources if source != "cli"
    }
    return stored - wanted, wanted - stored


def sync_derived(conn: sqlite3.Connection, current: Mapping[str, list[str]], now: datetime) -> None:
    """Make the config/keyword/folder flags match `current` (event id -> sources).

    A flag keeps its first_seen while it stays; one that vanishes is deleted, so
    setting it again starts a new grace period. CLI flags are left alone.
    """
    stored = {
        (r["event_id"], r["source"])
        for r in conn.execute("SELECT event_id, source FROM flags WHERE source != 'cli'")
    }
    gone, new = _derived_changes(stored, current)
    conn.executemany("DELETE FROM flags WHERE event_id = ? AND source = ?", sorted(gone))
    conn.executemany(
        "INSERT INTO flags (event_id, source, first_seen) VALUES (?, ?, ?)",
        [(eid, source, iso_utc(now)) for eid, source in sorted(new)],
    )


def with_derived(flags: list[Flag], current: Mapping[str, list[str]], now: datetime) -> list[Flag]:
    """The flags as `sync_derived` would leave them, computed without writing (SPEC 16:
    listings and previews never change the state db; only a pass starts a grace period)."""
    gone, new = _derived_changes(
        {(f.event_id, f.source) for f in flags if f.source != "cli"}, current
    )
    kept = [f for f in flags if (f.event_id, f.source) not in gone]
    return kept + [Flag(eid, source, "", "", now) for eid, source in sorted(new)]


def set_cli_flag(
    conn: sqlite3.Connection, event_id: str, reason: str, to: str, now: datetime
) -> bool:
    """Flag from the CLI (or update its reason and recipient); True if it is new."""
    existing = conn.execute(
        "SELECT 1 FROM flags WHERE event_id = ? AND source = 'cli'", (event_id,)
    ).fetchone()
    conn.execute(
        "INSERT INTO flags (event_id, source, reason, to_addr, first_seen) VALUES (?, 'cli', ?, ?, ?)"
        " ON CONFLICT (event_id, source) DO UPDATE SET reason = excluded.reason, to_addr = excluded.to_addr",
        (event_id, reason, to, iso_utc(now)),
    )
    return existing is None


def remove_cli_flag(conn: sqlite3.Connection, event_id: str) -> bool:
    """Remove the CLI flag; True if there was one."""
    cursor = conn.execute("DELETE FROM flags WHERE event_id = ? AND source = 'cli'", (event_id,))
    return cursor.rowcount > 0


def cli_flag_ids(conn: sqlite3.Connection) -> list[str]:
    """The events flagged from the CLI."""
    return [r["event_id"] for r in conn.execute("SELECT event_id FROM flags WHERE source = 'cli'")]
