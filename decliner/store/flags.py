"""Flags in the state db: when each flag was first seen, and the CLI's own flags."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime

from decliner.core.plan.flags import Flag, derived_changes
from decliner.store.db import iso_utc


def all_flags(conn: sqlite3.Connection) -> list[Flag]:
    """Every stored flag."""
    rows = conn.execute(
        "SELECT event_id, source, reason, to_addr, first_seen, scope, role, company FROM flags"
        " ORDER BY first_seen"
    )
    return [
        Flag(
            r["event_id"],
            r["source"],
            r["reason"] or "",
            r["to_addr"] or "",
            datetime.fromisoformat(r["first_seen"]),
            scope=r["scope"],
            role=r["role"],
            company=r["company"],
        )
        for r in rows
    ]


def sync_derived(conn: sqlite3.Connection, current: Mapping[str, list[str]], now: datetime) -> None:
    """Make the config/keyword/folder flags match `current` (event id -> sources).

    A flag keeps its first_seen while it stays; one that vanishes is deleted, so
    setting it again starts a new grace period. CLI flags are left alone.
    """
    stored = {
        (r["event_id"], r["source"])
        for r in conn.execute("SELECT event_id, source FROM flags WHERE source != 'cli'")
    }
    gone, new = derived_changes(stored, current)
    conn.executemany("DELETE FROM flags WHERE event_id = ? AND source = ?", sorted(gone))
    conn.executemany(
        "INSERT INTO flags (event_id, source, first_seen) VALUES (?, ?, ?)",
        [(eid, source, iso_utc(now)) for eid, source in sorted(new)],
    )


def set_cli_flag(
    conn: sqlite3.Connection,
    event_id: str,
    reason: str,
    to: str,
    now: datetime,
    *,
    scope: str = "",
    role: str = "",
    company: str = "",
) -> bool:
    """Flag from the CLI (or update what it says: reason, recipient, scope, role and
    company; its first_seen stays); True if it is new."""
    existing = conn.execute(
        "SELECT 1 FROM flags WHERE event_id = ? AND source = 'cli'", (event_id,)
    ).fetchone()
    conn.execute(
        "INSERT INTO flags (event_id, source, reason, to_addr, first_seen, scope, role, company)"
        " VALUES (?, 'cli', ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (event_id, source) DO UPDATE SET reason = excluded.reason,"
        " to_addr = excluded.to_addr, scope = excluded.scope, role = excluded.role,"
        " company = excluded.company",
        (event_id, reason, to, iso_utc(now), scope, role, company),
    )
    return existing is None


def remove_cli_flag(conn: sqlite3.Connection, event_id: str) -> bool:
    """Remove the CLI flag; True if there was one."""
    cursor = conn.execute("DELETE FROM flags WHERE event_id = ? AND source = 'cli'", (event_id,))
    return cursor.rowcount > 0


def flagged_ids(conn: sqlite3.Connection) -> set[str]:
    """The events with any stored flag."""
    return {r["event_id"] for r in conn.execute("SELECT DISTINCT event_id FROM flags")}


def cli_flag_ids(conn: sqlite3.Connection) -> list[str]:
    """The events flagged from the CLI."""
    return [r["event_id"] for r in conn.execute("SELECT event_id FROM flags WHERE source = 'cli'")]
