"""What the state db remembers of the user's CalDAV calendars: sync state and resources read."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from decliner.store.db import iso_utc


@dataclass(frozen=True, slots=True)
class SyncState:
    """A collection's RFC 6578 sync token or CTag as of the last pass (None: never read)."""

    url: str
    sync_token: str | None
    ctag: str | None


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One calendar object resource read: its ETag, its events, why it was unreadable."""

    href: str
    etag: str
    event_ids: tuple[str, ...] = ()
    problem: str = ""


def state(conn: sqlite3.Connection, url: str) -> SyncState:
    """The stored sync state of a collection (empty for one never read)."""
    row = conn.execute("SELECT sync_token, ctag FROM calendars WHERE url = ?", (url,)).fetchone()
    if row is None:
        return SyncState(url, None, None)
    return SyncState(url, row["sync_token"], row["ctag"])


def ensure(conn: sqlite3.Connection, url: str, name: str) -> None:
    """A row for the collection, so its resources can be recorded before its first token."""
    conn.execute(
        "INSERT INTO calendars (url, name) VALUES (?, ?) ON CONFLICT (url) DO NOTHING", (url, name)
    )


def save_state(
    conn: sqlite3.Connection,
    url: str,
    name: str,
    *,
    sync_token: str | None,
    ctag: str | None,
    now: datetime,
) -> None:
    """Record how far a collection has been read."""
    conn.execute(
        "INSERT INTO calendars (url, name, sync_token, ctag, synced) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (url) DO UPDATE SET name = excluded.name,"
        " sync_token = excluded.sync_token, ctag = excluded.ctag, synced = excluded.synced",
        (url, name, sync_token, ctag, iso_utc(now)),
    )


def objects(conn: sqlite3.Connection, url: str) -> dict[str, StoredObject]:
    """Every resource read from a collection, by href."""
    return {
        r["href"]: StoredObject(
            r["href"], r["etag"], tuple(json.loads(r["event_ids"])), r["problem"]
        )
        for r in conn.execute(
            "SELECT href, etag, event_ids, problem FROM calendar_objects WHERE calendar = ?",
            (url,),
        )
    }


def save_object(conn: sqlite3.Connection, url: str, stored: StoredObject) -> None:
    """Record a resource as read (with the ETag it had then)."""
    conn.execute(
        "INSERT INTO calendar_objects (calendar, href, etag, event_ids, problem)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (calendar, href) DO UPDATE SET"
        " etag = excluded.etag, event_ids = excluded.event_ids, problem = excluded.problem",
        (url, stored.href, stored.etag, json.dumps(list(stored.event_ids)), stored.problem),
    )


def note_written(conn: sqlite3.Connection, href: str, etag: str) -> None:
    """Our own write gave a resource this ETag: the next listing need not fetch it."""
    conn.execute("UPDATE calendar_objects SET etag = ? WHERE href = ?", (etag, href))


def forget_objects(conn: sqlite3.Connection, url: str, hrefs: list[str]) -> None:
    """Resources that left the collection."""
    conn.executemany(
        "DELETE FROM calendar_objects WHERE calendar = ? AND href = ?",
        [(url, h) for h in hrefs],
    )


def problems(conn: sqlite3.Connection) -> list[str]:
    """Why each unreadable resource still in a calendar was skipped (for `check`)."""
    return [
        r["problem"]
        for r in conn.execute(
            "SELECT problem FROM calendar_objects WHERE problem != '' ORDER BY calendar, href"
        )
    ]


def count(conn: sqlite3.Connection) -> int:
    """How many calendar resources are known."""
    return int(conn.execute("SELECT count(*) FROM calendar_objects").fetchone()[0])
