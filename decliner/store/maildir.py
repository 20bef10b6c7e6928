"""What the state db remembers of each Maildir folder: key -> UID, and when it was listed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


def _ensure_folder(conn: sqlite3.Connection, folder: str) -> None:
    conn.execute("INSERT INTO folders (name) VALUES (?) ON CONFLICT DO NOTHING", (folder,))


def keys(conn: sqlite3.Connection, folder: str) -> dict[str, int]:
    """Every key read so far in `folder`, with its UID."""
    rows = conn.execute("SELECT key, uid FROM maildir_keys WHERE folder = ?", (folder,))
    return {r["key"]: r["uid"] for r in rows}


def add_keys(conn: sqlite3.Connection, folder: str, pairs: Iterable[tuple[str, int]]) -> None:
    """Remember newly read keys and the UIDs they were given."""
    _ensure_folder(conn, folder)
    conn.executemany(
        "INSERT INTO maildir_keys (folder, key, uid) VALUES (?, ?, ?)",
        [(folder, key, uid) for key, uid in pairs],
    )


def remove_keys(conn: sqlite3.Connection, folder: str, gone: Iterable[str]) -> None:
    """Forget keys whose files left the folder."""
    conn.executemany(
        "DELETE FROM maildir_keys WHERE folder = ? AND key = ?", [(folder, k) for k in gone]
    )


def key_of(conn: sqlite3.Connection, folder: str, uid: int) -> str | None:
    """The key that was given `uid` in `folder`, if it is still there."""
    row = conn.execute(
        "SELECT key FROM maildir_keys WHERE folder = ? AND uid = ?", (folder, uid)
    ).fetchone()
    return None if row is None else str(row["key"])


def stamp(conn: sqlite3.Connection, folder: str) -> tuple[int, int] | None:
    """The (new/, cur/) mtimes in ns at the last complete listing, or None to list again."""
    row = conn.execute(
        "SELECT new_mtime_ns, cur_mtime_ns FROM maildir_folders WHERE name = ?", (folder,)
    ).fetchone()
    if row is None or row["new_mtime_ns"] is None or row["cur_mtime_ns"] is None:
        return None
    return int(row["new_mtime_ns"]), int(row["cur_mtime_ns"])


def save_stamp(conn: sqlite3.Connection, folder: str, value: tuple[int, int] | None) -> None:
    """Record the mtimes of a complete listing (None: do not trust them, list again)."""
    _ensure_folder(conn, folder)
    new, cur = value if value is not None else (None, None)
    conn.execute(
        "INSERT INTO maildir_folders (name, new_mtime_ns, cur_mtime_ns) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET new_mtime_ns = excluded.new_mtime_ns,"
        " cur_mtime_ns = excluded.cur_mtime_ns",
        (folder, new, cur),
    )
