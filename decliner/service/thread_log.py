"""`decliner log`: every message of every thread, ours and theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from decliner.config import Config
from decliner.core.letters.headers import decline_subject, withdrawal_subject
from decliner.core.plan.events import EventRecord
from decliner.service import snapshot as read_model
from decliner.service.lookup import find_event
from decliner.service.wiring import utcnow
from decliner.store import Store
from decliner.store import events as event_db
from decliner.store import outbox as outbox_db
from decliner.store import thread as thread_db


@dataclass(frozen=True)
class LogEntry:
    """One message of a thread, ours or theirs, as `decliner log` shows it."""

    event: EventRecord
    direction: str
    kind: str
    message_id: str | None
    in_reply_to: str | None
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str | None
    date: datetime
    state: str
    attempts: int
    error: str | None
    cancel_reason: str | None = None


def log_entries(config: Config, store: Store, key: str | None = None) -> list[LogEntry]:
    """Every message of every thread (or of EVENT's), threads by first message, messages by time."""
    conn = store.connection
    only = find_event(store, key).id if key else None
    rows = outbox_db.rows(conn, only)
    # Only messages not written yet need the flags (for their recipient); most logs have none.
    unwritten = any(row.raw is None and row.kind != "calendar" for row in rows)
    intents = read_model.read(config, conn, utcnow()).intents if unwritten else {}
    entries: list[LogEntry] = []
    for row in rows:
        event = event_db.by_id(conn, row.event_id)
        if event is None:
            continue
        to: tuple[str, ...] = row.to
        subject: str | None = row.subject
        if row.kind == "calendar":  # the update of the user's own calendar: no mail
            subject = None
        elif row.raw is None:  # not written yet: say what it will be
            recipient = read_model.recipient(config, event, intents.get(event.id))
            to = (recipient.email,) if recipient else ()
            subject = decline_subject(event) if row.kind == "decline" else withdrawal_subject(event)
        when = (
            row.sent_at
            if row.state == "sent"
            else row.last_attempt
            if row.state == "failed"
            else row.due
        )
        entries.append(
            LogEntry(
                event,
                "out",
                "reply" if row.kind == "decline" else row.kind,  # an iTIP REPLY we sent
                row.message_id,
                row.in_reply_to,
                config.account.email,
                to,
                row.cc,
                subject,
                when or row.created,
                row.state,
                row.attempts,
                row.last_error,
                row.cancel_reason,
            )
        )
    for reply in thread_db.replies(conn, only):
        event = event_db.by_id(conn, reply.event_id)
        if event is not None:
            entries.append(
                LogEntry(
                    event,
                    "in",
                    "reply",
                    reply.message_id,
                    reply.in_reply_to,
                    reply.from_,
                    reply.to,
                    reply.cc,
                    reply.subject,
                    reply.date or event.start,
                    "received",
                    0,
                    None,
                )
            )
    first: dict[str, datetime] = {}
    for entry in entries:
        first[entry.event.id] = min(first.get(entry.event.id, entry.date), entry.date)
    return sorted(entries, key=lambda e: (first[e.event.id], e.event.id, e.date))
