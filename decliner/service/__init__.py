"""What the commands do, over the ports: scan, list, flag, preview, run a pass.

Functions return data; only the CLI prints.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from decliner.config import Config, check_address
from decliner.core.letters.headers import RenderError, TemplateProblem, withdrawal_subject
from decliner.core.letters.languages import Choice
from decliner.core.plan.events import EventRecord

if TYPE_CHECKING:
    from decliner.calendar.client import CalDav
    from decliner.service.own_calendar import OwnCalendar
from decliner.core.plan.actions import LetterKind
from decliner.core.plan.outbox import OutboxRow, RowKind
from decliner.core.plan.status import Facts, Status, status
from decliner.errors import DeclinerError, RuntimeFailure, UserError
from decliner.mail import imap
from decliner.mail.imap.scan import Scanner
from decliner.mail.ingest import Progress, ScanReport
from decliner.mail.ports import MailSource, Transport
from decliner.service import letters
from decliner.service.runner import PassReport, Runner
from decliner.store import Store as Store  # the handle the commands take, re-exported
from decliner.store import calendars as calendar_db
from decliner.store import events as event_db
from decliner.store import flags as flag_db
from decliner.store import mailbox
from decliner.store import outbox as outbox_db
from decliner.store import thread as thread_db


def utcnow() -> datetime:
    """The current instant; the one place the shell reads the clock."""
    return datetime.now(UTC)


def open_store(config: Config, *, readonly: bool = False) -> Store:
    """The account's state db, created on first use; `readonly` for commands that only
    look (SPEC 16), which then cannot write even by mistake."""
    if readonly:
        return Store.open_readonly(config.state_path())
    return Store.open(config.state_path())


@dataclass(frozen=True)
class StateInfo:
    """What `check` says of the state db: whether it exists, the last sync, the daemon's pid."""

    path: Path
    exists: bool
    last_sync: datetime | None = None
    daemon_pid: int | None = None
    skipped: tuple[str, ...] = ()  # messages still in the mailbox that could not be read


def state_info(config: Config) -> StateInfo:
    """Read (never create or change) the account's state db for `check`."""
    path = config.state_path()
    if not path.exists():
        return StateInfo(path, exists=False)
    with Store.open_readonly(path) as store:
        conn = store.connection
        skipped = (*mailbox.problems(conn), *calendar_db.problems(conn))
        return StateInfo(
            path,
            exists=True,
            last_sync=store.last_sync(),
            daemon_pid=store.daemon_pid(),
            skipped=skipped,
        )


def stored_message(store: Store, event_id: str, kind: RowKind) -> OutboxRow | None:
    """The event's outbox row of this kind (its bytes once written), if it has one."""
    return next((r for r in outbox_db.rows(store.connection, event_id) if r.kind == kind), None)


@contextmanager
def mail_source(
    config: Config,
    store: Store,
    *,
    now: Callable[[], datetime] = utcnow,
    progress: Progress | None = None,
) -> Iterator[MailSource]:
    """The configured mailbox, connected (IMAP) or checked (Maildir) for the block."""
    if config.maildir is not None:
        from decliner.mail.maildir import MaildirSource

        source = MaildirSource(config, store, now=now, progress=progress)
        source.check_root()
        yield source
        return
    with imap.session(config) as client:
        yield imap.ImapSource(config, client, Scanner(config, store, now=now, progress=progress))


def transport(config: Config) -> Transport:
    """The configured way out: SMTP, or a local Maildir for dry runs."""
    if config.smtp.transport == "maildir":
        from decliner.mail.maildir.transport import MaildirTransport

        return MaildirTransport(config.resolve_path(config.smtp.maildir_path))
    from decliner.mail.smtp import SmtpTransport  # aiosmtplib and asyncio: only to send

    return SmtpTransport(config)


def scan(config: Config, store: Store, progress: Progress | None = None) -> ScanReport:
    """One incremental pass over the mail folders."""
    with mail_source(config, store, progress=progress) as source:
        return source.scan()


def refresh(config: Config, store: Store, progress: Progress | None = None) -> str | None:
    """Read new mail (and the calendar's invitations) before a listing; if either cannot be
    read, the warning to show instead of failing: the listing is then what the state db knew
    at the last sync."""
    try:
        scan(config, store, progress)
    except RuntimeFailure as exc:
        synced = store.last_sync()
        when = f"at {synced.astimezone(config.account.zone):%Y-%m-%d %H:%M}" if synced else ""
        return f"showing what was known {when or '(never synced)'}: {exc}"
    calendar = open_calendar(config, store)
    if calendar is None:
        return None
    try:
        calendar.read()
    except DeclinerError as exc:
        return f"showing what was known of your calendar: {exc}"
    finally:
        calendar.close()
    return None


def open_calendar(
    config: Config, store: Store, *, now: Callable[[], datetime] = utcnow
) -> OwnCalendar | None:
    """The user's own calendar from `[calendar]`, if configured (it connects on first use;
    the CalDAV client is imported only then, so a mail-only pass never loads it)."""
    if config.calendar is None:
        return None
    from decliner.service.own_calendar import OwnCalendar

    return OwnCalendar(config, store, now=now)


def calendar_account(config: Config) -> CalDav:
    """The `[calendar]` account, not yet connected (for `check`)."""
    from decliner.service.own_calendar import calendar_account as account

    return account(config)


def run_once(config: Config, store: Store, *, now: Callable[[], datetime] = utcnow) -> PassReport:
    """One full pass: scan, flags, plan, send what is due (one attempt each)."""
    calendar = open_calendar(config, store, now=now)
    try:
        with mail_source(config, store, now=now) as source:
            return Runner(config, store, now=now).run_once(source, transport(config), calendar)
    finally:
        if calendar is not None:
            calendar.close()


@dataclass(frozen=True)
class InviteView:
    """One row of `decliner invites`, as the JSON output names its fields."""

    event: EventRecord
    status: Status
    flagged_by: str | None
    recipient_email: str | None
    recipient_name: str
    calendar: str | None = None  # the event in the user's own calendar (SPEC 13)

    def as_json(self, config: Config) -> dict[str, object]:
        """The SPEC's `invites --json` object, times in the account's zone."""
        zone = config.account.zone
        e = self.event
        return {
            "id": e.id,
            "uid": e.uid,
            "recurrence_id": e.recurrence_id or None,
            "summary": e.summary,
            "start": e.start.astimezone(zone).isoformat(),
            "end": e.end.astimezone(zone).isoformat(),
            "all_day": e.all_day,
            "location": e.location,
            "organizer": e.organizer.email if e.organizer else None,
            "organizer_name": e.organizer.name if e.organizer else "",
            "recipient": self.recipient_email,
            "recipient_name": self.recipient_name,
            "folder": e.invite.folder,
            "status": self.status,
            "flagged_by": self.flagged_by,
            "looks_like_interview": e.interview,
            "kind": e.kind,
            "booking_links": [link.as_json() for link in e.booking_links],
            "calendar": self.calendar,
            "sequence": e.sequence,
        }


def invites(config: Config, store: Store, now: datetime, *, include_past: bool) -> list[InviteView]:
    """The known invitations with status and flags.

    Without `include_past`, only those still ahead and not cancelled by the organizer.
    """
    runner = Runner(config, store, now=lambda: now)
    snapshot = runner.snapshot(now)
    views = []
    for situation in runner.situations(snapshot):
        event = situation.event
        if not include_past and (event.start <= now or event.cancelled_by_organizer):
            continue
        w, f = situation.withdrawal, situation.followup
        facts = Facts(
            start=event.start,
            cancelled_by_organizer=event.cancelled_by_organizer,
            flagged=situation.flagged_since is not None,
            has_recipient=situation.recipient is not None,
            withdrawal=w.state if w else None,
            followup=f.state if f else None,
            missed=bool(w and w.cancel_reason == "missed"),
        )
        found = snapshot.sources.get(event.id)
        views.append(
            InviteView(
                event=event,
                status=status(facts, now),
                flagged_by=found[0] if found else None,
                recipient_email=situation.recipient.email if situation.recipient else None,
                recipient_name=situation.recipient.name if situation.recipient else "",
                calendar=calendar_state(snapshot.row(event.id, "calendar")),
            )
        )
    return views


def calendar_state(row: OutboxRow | None) -> str | None:
    """`invites`' `calendar` field: what became of the event in the user's own calendar."""
    if row is None or row.state == "cancelled":
        return None
    if row.state == "sent":
        return "deleted" if row.change == "delete" else "declined"
    return "failed" if row.state == "failed" else "pending"


def find_event(store: Store, key: str) -> EventRecord:
    """An event by short id, unique id prefix, or full UID; ambiguity lists the candidates."""
    records = event_db.all_events(store.connection)
    exact = [e for e in records if key in {e.id, e.uid}]
    matches = exact or [e for e in records if e.id.startswith(key.lower())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(f"no invitation matches {key!r}; see `decliner invites --all`")
    raise UserError(f"{key!r} is ambiguous: " + ", ".join(_label(e) for e in matches[:8]))


def _label(event: EventRecord) -> str:
    return f"{event.id} ({event.summary[:40]}, {event.start:%Y-%m-%d})"


@dataclass(frozen=True)
class UnflagResult:
    """What `unflag` changed, and what still flags the event."""

    event: EventRecord
    removed: tuple[str, ...]
    remaining: tuple[str, ...]
    withdrawal_state: str | None


def flag(config: Config, store: Store, key: str, *, reason: str = "", to: str = "") -> InviteView:
    """Flag an event from the CLI (or change its reason or recipient)."""
    if to:
        try:
            check_address(to)
        except ValueError as exc:
            raise UserError(f"--to: {exc}") from None
    event = find_event(store, key)
    now = utcnow()
    with store.transaction() as conn:
        flag_db.set_cli_flag(conn, event.id, reason, to, now)
    return _view(config, store, event.id, now)


def unflag(config: Config, store: Store, key: str) -> UnflagResult:
    """Remove the CLI flag and the flag keyword; cancel a withdrawal still in its grace period."""
    event = find_event(store, key)
    conn = store.connection
    removed: list[str] = []
    with store.transaction():
        if flag_db.remove_cli_flag(conn, event.id):
            removed.append("cli")
    keyword = config.imap.flag_keyword if config.imap else ""
    tagged = [m for m in mailbox.messages(conn) if m.keyword and event.id in m.event_ids]
    if keyword and tagged:
        with mail_source(config, store) as source:
            for folder in sorted({m.folder for m in tagged}):
                uids = [m.uid for m in tagged if m.folder == folder]
                source.remove_keyword(folder, uids, keyword)
                with store.transaction():
                    for uid in uids:
                        mailbox.set_keyword(conn, folder, uid, keyword=False)
        removed.append("keyword")
    snapshot, _sends_left_to_the_daemon = Runner(config, store, now=utcnow).settle()
    remaining = tuple(snapshot.sources.get(event.id, []))
    withdrawal = next((r for r in outbox_db.rows(conn, event.id) if r.kind == "withdrawal"), None)
    return UnflagResult(event, tuple(removed), remaining, withdrawal.state if withdrawal else None)


def preview(config: Config, store: Store, key: str, *, kind: LetterKind) -> bytes:
    """The bytes stored for the event's message, or the message as it would be written now."""
    event = find_event(store, key)
    stored = stored_message(store, event.id, kind)
    if stored is not None and stored.raw is not None:
        return stored.raw
    runner = Runner(config, store, now=utcnow)
    try:
        rendered = runner.preview(event, kind, token=f"preview.{secrets.token_hex(8)}")
    except (RenderError, TemplateProblem) as exc:
        raise UserError(f"cannot preview the {kind} for {event.id}: {exc}") from None
    return rendered.raw


def letter_language(config: Config, store: Store, key: str) -> Choice:
    """Which language the event's letters are written in, and for "auto" why."""
    return letters.letter_language(config, find_event(store, key))


def _view(config: Config, store: Store, event_id: str, now: datetime) -> InviteView:
    return next(v for v in invites(config, store, now, include_past=True) if v.event.id == event_id)


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

    def as_json(self, config: Config) -> dict[str, object]:
        """The SPEC's `log --json` object, the date in the account's zone."""
        return {
            "event_id": self.event.id,
            "direction": self.direction,
            "kind": self.kind,
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to or None,
            "from": self.sender,
            "to": list(self.to),
            "cc": list(self.cc),
            "subject": self.subject,
            "date": self.date.astimezone(config.account.zone).isoformat(),
            "state": self.state,
            "attempts": self.attempts,
            "error": self.error,
            "cancel_reason": self.cancel_reason,
            "summary": self.event.summary,
            "booking_links": [link.as_json() for link in self.event.booking_links],
        }


def log_entries(config: Config, store: Store, key: str | None = None) -> list[LogEntry]:
    """Every message of every thread (or of EVENT's), threads by first message, messages by time."""
    conn = store.connection
    only = find_event(store, key).id if key else None
    runner = Runner(config, store, now=utcnow)
    rows = outbox_db.rows(conn, only)
    # Only messages not written yet need the flags (for their recipient); most logs have none.
    unwritten = any(row.raw is None and row.kind != "calendar" for row in rows)
    intents = runner.snapshot(utcnow()).intents if unwritten else {}
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
            recipient = runner.recipient(event, intents.get(event.id))
            to = (recipient.email,) if recipient else ()
            subject = withdrawal_subject(event)
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
                row.kind,
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
