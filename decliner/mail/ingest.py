"""Recording what a scan read, for every mail source: invitations into events, replies into threads.

The IMAP scanner (`imap/scan.py`) and the Maildir source (`maildir`) read mail in
their own ways; both hand each message here, inside their own transaction, under the
folder and integer UID the state db knows it by, so that merging (SEQUENCE,
CANCEL, copies in several folders) and reply matching work the same for both.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from decliner.config import Config
from decliner.core.parse.model import ParsedInvite, Rejected
from decliner.core.parse.replies import Reply, match_reply, names_ours
from decliner.core.plan.events import event_id, record_from, recurrence_key
from decliner.mail.ports import Progress, ScanReport
from decliner.store import events as event_db
from decliner.store import mailbox
from decliner.store import outbox as outbox_db
from decliner.store import thread as thread_db
from decliner.store.mailbox import StoredMessage

log = logging.getLogger(__name__)

__all__ = ["Progress", "Recorder", "ScanReport", "chunked", "repoint_orphans"]


class Recorder:
    """Merges parsed invitations into the events table and files replies in their threads."""

    def __init__(self, config: Config, *, now: Callable[[], datetime]) -> None:
        self.me = config.account.addresses
        self.now = now
        self.ours: dict[str, str] = {}

    def load_ours(self, conn: sqlite3.Connection) -> None:
        """Remember our Message-IDs (outbox), at the start of a pass, to recognise replies."""
        self.ours = outbox_db.our_message_ids(conn)

    def reply_in(self, headers: bytes) -> Reply | None:
        """The reply these headers make to one of our messages, if any."""
        return match_reply(headers, self.ours, self.me) if self.ours else None

    def may_reply(self, threading: bytes) -> bool:
        """Whether a message with these In-Reply-To/References can be a reply to us (with
        nothing sent yet, none can, and a scan need not read any message's threading)."""
        return bool(self.ours) and names_ours(threading, self.ours)

    def add_reply(
        self, conn: sqlite3.Connection, reply: Reply, folder: str, uid: int, report: ScanReport
    ) -> None:
        """Log a reply in its thread once (by Message-ID)."""
        if thread_db.add_reply(conn, reply, folder, uid, self.now()):
            report.replies += 1
            log.info("reply from %s in the thread of %s", reply.from_, reply.event_id)

    def record(
        self,
        conn: sqlite3.Connection,
        folder: str,
        uid: int,
        result: ParsedInvite | Rejected | None,
        *,
        keyword: bool,
        label: str,
        report: ScanReport,
    ) -> int:
        """Store one parsed calendar message and merge its events; 1 if it was an invitation.

        `label` names the message in the warning for an unreadable one ("folder X UID n").
        """
        if result is None:
            return 0
        if isinstance(result, Rejected):
            what = f"{label}: skipped an unreadable invitation ({result.reason}: {result.detail})"
            log.warning("%s", what)
            report.skipped.append(what)
            mailbox.save_message(
                conn, StoredMessage(folder, uid, "", "rejected", (), keyword, problem=what)
            )
            return 0
        for event in result.events:
            for warning in event.warnings:
                log.warning("%s: event %s: %s", label, event.uid, warning)
        ids = self.merge(conn, folder, uid, result)
        kind = "cancel" if result.method == "CANCEL" else "invite"
        message_id = result.message.message_id
        mailbox.save_message(conn, StoredMessage(folder, uid, message_id, kind, ids, keyword))
        return 1

    def merge(
        self, conn: sqlite3.Connection, folder: str, uid: int, parsed: ParsedInvite
    ) -> tuple[str, ...]:
        """Merge each event of an invitation into the stored one; the event ids it carries."""
        ids = []
        for event in parsed.events:
            rid = recurrence_key(event.recurrence_id)
            eid = event_id(event.uid, rid)
            ids.append(eid)
            incoming = record_from(
                event_id=eid,
                event=event,
                message=parsed.message,
                folder=folder,
                uid=uid,
                ical=parsed.calendar_bytes,
                links=parsed.booking_links,
                body_text=parsed.body_text,
            )
            event_db.merge_in(conn, incoming, self.now())
            if incoming.cancelled_by_organizer and not rid:
                event_db.cancel_instances(conn, event.uid, self.now())
        return tuple(ids)


def repoint_orphans(conn: sqlite3.Connection) -> int:
    """Point events whose invite message is gone at another stored copy of it; how many moved.

    An invite moved to another folder (into the flag folder, say) is a new message
    there and the same invitation, so merging leaves the event pointing at the old
    place; the withdrawal's answered mark belongs on the copy that still exists.
    """
    present = mailbox.messages(conn)
    where = {(m.folder, m.uid) for m in present}
    copies: dict[str, StoredMessage] = {}
    for message in present:
        if message.kind == "invite":
            for eid in message.event_ids:
                copies.setdefault(eid, message)
    moved = 0
    for event in event_db.all_events(conn):
        if (event.invite.folder, event.invite.uid) in where:
            continue
        copy = copies.get(event.id)
        if copy is not None:
            event_db.repoint(conn, [event.id], copy.folder, copy.uid)
            moved += 1
    return moved


T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of at most `size`: one FETCH or one transaction each."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
