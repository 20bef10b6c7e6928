"""Replies in our threads (the log's `direction: "in"`)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from decliner.core.parse.replies import Reply
from decliner.store.db import iso_utc


def add_reply(
    conn: sqlite3.Connection, reply: Reply, folder: str, uid: int, received: datetime
) -> bool:
    """Record a reply once (by Message-ID); True if it is new."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO thread (event_id, message_id, in_reply_to, from_addr, to_addrs, cc_addrs,"
        " subject, date, folder, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            reply.event_id,
            reply.message_id,
            reply.in_reply_to,
            reply.from_,
            json.dumps(list(reply.to)),
            json.dumps(list(reply.cc)),
            reply.subject,
            iso_utc(reply.date or received),
            folder,
            uid,
        ),
    )
    return cursor.rowcount > 0


def replies(conn: sqlite3.Connection, event_id: str | None = None) -> list[Reply]:
    """The replies recorded (for one event), oldest first."""
    query = "SELECT event_id, message_id, in_reply_to, from_addr, to_addrs, cc_addrs, subject, date FROM thread"
    rows = (
        conn.execute(query + " WHERE event_id = ? ORDER BY date, id", (event_id,))
        if event_id
        else conn.execute(query + " ORDER BY date, id")
    )
    return [
        Reply(
            r["event_id"],
            r["message_id"],
            r["in_reply_to"] or "",
            r["from_addr"] or "",
            tuple(json.loads(r["to_addrs"])),
            tuple(json.loads(r["cc_addrs"])),
            r["subject"] or "",
            datetime.fromisoformat(r["date"]) if r["date"] else None,
        )
        for r in rows
    ]
