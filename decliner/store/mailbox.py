"""What the state db remembers of each mail folder: sync position and calendar messages."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from decliner.store.db import iso_utc


@dataclass(frozen=True, slots=True)
class FolderState:
    """How far a folder has been read: UIDs below `uidnext` are done."""

    name: str
    uidvalidity: int
    uidnext: int
    highestmodseq: int | None
    exists_count: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A calendar message already read, and what it told us."""

    folder: str
    uid: int
    message_id: str
    kind: str
    event_ids: tuple[str, ...]
    keyword: bool
    problem: str = ""  # for kind "rejected": the warning, repeated by `check`


def folder(conn: sqlite3.Connection, name: str) -> FolderState | None:
    """The stored sync position of a folder, or None if never read."""
    row = conn.execute(
        "SELECT name, uidvalidity, uidnext, highestmodseq, exists_count FROM folders WHERE name = ?",
        (name,),
    ).fetchone()
    if row is None or row["uidvalidity"] is None:
        return None
    return FolderState(
        row["name"],
        row["uidvalidity"],
        row["uidnext"] or 1,
        row["highestmodseq"],
        row["exists_count"] or 0,
    )


def save_folder(conn: sqlite3.Connection, state: FolderState, now: datetime) -> None:
    """Record a folder's new sync position."""
    conn.execute(
        "INSERT INTO folders (name, uidvalidity, uidnext, highestmodseq, exists_count, synced)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " uidvalidity = excluded.uidvalidity, uidnext = excluded.uidnext,"
        " highestmodseq = excluded.highestmodseq, exists_count = excluded.exists_count,"
        " synced = excluded.synced",
        (
            state.name,
            state.uidvalidity,
            state.uidnext,
            state.highestmodseq,
            state.exists_count,
            iso_utc(now),
        ),
    )


def forget_folder(conn: sqlite3.Connection, name: str) -> None:
    """Drop a folder's messages and position (its UIDVALIDITY changed: rescan it)."""
    conn.execute("DELETE FROM messages WHERE folder = ?", (name,))
    conn.execute("DELETE FROM folders WHERE name = ?", (name,))


_MESSAGE = "SELECT folder, uid, message_id, kind, event_ids, keyword FROM messages"


def messages(conn: sqlite3.Connection, folder_name: str | None = None) -> list[StoredMessage]:
    """The calendar messages read so far, of one folder or of all."""
    rows = (
        conn.execute(_MESSAGE + " WHERE folder = ? ORDER BY uid", (folder_name,))
        if folder_name is not None
        else conn.execute(_MESSAGE + " ORDER BY folder, uid")
    )
    return [_message(r) for r in rows]


def flagging_invites(conn: sqlite3.Connection, flag_folder: str) -> list[StoredMessage]:
    """The invitation messages that flag their events: with the keyword, or in the flag
    folder (read through indexes: as many rows as there are such messages)."""
    rows = [
        *conn.execute(_MESSAGE + " WHERE keyword = 1 AND kind = 'invite'"),
        *conn.execute(
            _MESSAGE + " WHERE folder = ? AND keyword = 0 AND kind = 'invite'", (flag_folder,)
        ),
    ]
    return sorted((_message(r) for r in rows), key=lambda m: (m.folder, m.uid))


def _message(r: sqlite3.Row) -> StoredMessage:
    return StoredMessage(
        r["folder"],
        r["uid"],
        r["message_id"] or "",
        r["kind"],
        tuple(json.loads(r["event_ids"])),
        bool(r["keyword"]),
    )


def save_message(conn: sqlite3.Connection, message: StoredMessage) -> None:
    """Remember a calendar message (its folder row must exist)."""
    conn.execute("INSERT INTO folders (name) VALUES (?) ON CONFLICT DO NOTHING", (message.folder,))
    conn.execute(
        "INSERT OR REPLACE INTO messages (folder, uid, message_id, kind, event_ids, keyword,"
        " problem) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            message.folder,
            message.uid,
            message.message_id,
            message.kind,
            json.dumps(list(message.event_ids)),
            int(message.keyword),
            message.problem,
        ),
    )


def problems(conn: sqlite3.Connection) -> list[str]:
    """The warnings of messages skipped as unreadable and still in their folders."""
    return [
        r["problem"]
        for r in conn.execute(
            "SELECT problem FROM messages WHERE problem != '' ORDER BY folder, uid"
        )
    ]


def set_keyword(conn: sqlite3.Connection, folder_name: str, uid: int, *, keyword: bool) -> None:
    """Record whether a stored message now carries the flag keyword."""
    conn.execute(
        "UPDATE messages SET keyword = ? WHERE folder = ? AND uid = ?",
        (int(keyword), folder_name, uid),
    )


def remove_messages(conn: sqlite3.Connection, folder_name: str, uids: list[int]) -> None:
    """Forget messages that were expunged from a folder."""
    conn.executemany(
        "DELETE FROM messages WHERE folder = ? AND uid = ?", [(folder_name, u) for u in uids]
    )
