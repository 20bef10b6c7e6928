"""What the review page shows (SPEC 21), gathered from the same service functions as the
CLI's `invites`, `preview` and `log`, over a store opened read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from decliner.config import Config
from decliner.core.letters.languages import Choice
from decliner.core.plan.actions import LetterKind
from decliner.core.plan.flags import Intent
from decliner.core.plan.naming import Found
from decliner.errors import UserError
from decliner.service import listing, preview, signin, state_db, thread_log
from decliner.service import snapshot as read_model
from decliner.service.listing import InviteView
from decliner.service.lookup import find_event
from decliner.service.thread_log import LogEntry
from decliner.store import Store, mailbox
from decliner.store import calendars as calendar_db


@dataclass(frozen=True)
class Group:
    """The invitations of one hiring process (SPEC 18), soonest first."""

    process: str
    views: tuple[InviteView, ...]


@dataclass(frozen=True)
class Letter:
    """A message as `preview` gets it: its bytes, or why it cannot be written."""

    raw: bytes | None
    problem: str = ""


@dataclass(frozen=True)
class Detail:
    """One invitation: its row, its letters, what they are written from, its grace."""

    view: InviteView
    withdrawal: Letter
    followup: Letter
    language: Choice
    named: Found
    grace_ends: datetime | None  # set while a withdrawal waits in its grace window
    thread: tuple[LogEntry, ...]
    intent: Intent | None = None  # what the flag asked for (reason, recipient, scope, names)

    @property
    def recipient_from(self) -> str:
        """Where the recipient was found (SPEC 3): the flag, the organizer, Reply-To, From."""
        email = (self.view.recipient_email or "").lower()
        event = self.view.event
        if not email:
            return ""
        if self.intent is not None and self.intent.to.lower() == email:
            return "flag"
        for where, address in (
            ("organizer", event.organizer),
            ("invitation's Reply-To", event.invite.reply_to),
            ("invitation's From", event.invite.from_),
        ):
            if address is not None and address.email.lower() == email:
                return where
        return ""


@dataclass(frozen=True)
class Attention:
    """What needs the user: no recipient, skipped messages, failed messages, a sign-in
    to make, and invitations that arrived for a process already withdrawn from."""

    no_recipient: tuple[InviteView, ...]
    skipped: tuple[str, ...]
    failed: tuple[LogEntry, ...]
    signin: tuple[str, ...] = ()
    late: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """How many things are waiting for the user."""
        parts = (self.no_recipient, self.skipped, self.failed, self.signin, self.late)
        return sum(len(part) for part in parts)


def groups(config: Config, store: Store, now: datetime, *, include_past: bool) -> list[Group]:
    """`invites`' rows grouped by hiring process; the process with the soonest one first."""
    by_process: dict[str, list[InviteView]] = {}
    for view in listing.invites(config, store, now, include_past=include_past):
        by_process.setdefault(view.process, []).append(view)
    found = [
        Group(process, tuple(sorted(views, key=lambda v: v.event.start)))
        for process, views in by_process.items()
    ]
    return sorted(found, key=lambda g: (g.views[0].event.start < now, _soonest(g, now)))


def _soonest(group: Group, now: datetime) -> datetime:
    ahead = [v.event.start for v in group.views if v.event.start >= now]
    return min(ahead) if ahead else group.views[-1].event.start


def detail(config: Config, store: Store, key: str, now: datetime) -> Detail:
    """One invitation as `invites --all`, `preview` (both letters) and `log EVENT` show it."""
    event_id = find_event(store, key).id
    return Detail(
        view=listing.invite_view(config, store, event_id, now),
        withdrawal=_letter(config, store, event_id, "withdrawal"),
        followup=_letter(config, store, event_id, "followup"),
        language=preview.letter_language(config, store, event_id),
        named=preview.naming(config, store, event_id),
        grace_ends=grace_ends(config, store, event_id, now),
        thread=tuple(thread_log.log_entries(config, store, event_id)),
        intent=read_model.read(config, store.connection, now).intents.get(event_id),
    )


def _letter(config: Config, store: Store, event_id: str, kind: LetterKind) -> Letter:
    try:
        raw = preview.message(config, store, event_id, kind=kind)
    except UserError as exc:
        return Letter(None, str(exc))
    return Letter(raw)


def grace_ends(config: Config, store: Store, event_id: str, now: datetime) -> datetime | None:
    """When the event's withdrawal goes out, while it can still be undone."""
    return in_grace(config, store, now).get(event_id)


def in_grace(config: Config, store: Store, now: datetime) -> dict[str, datetime]:
    """Event id -> when its withdrawal goes out, for each one that can still be undone: the
    scheduled row's due time, or for a flag no pass has scheduled yet (new, or set again
    after an undo), the flag's time plus the grace, as the next pass will schedule it."""
    snapshot = read_model.read(config, store.connection, now)
    found = {}
    for event_id, intent in snapshot.intents.items():
        row = snapshot.row(event_id, "withdrawal")
        if row is None or (row.state == "cancelled" and row.cancel_reason == "unflagged"):
            ends = intent.since + config.withdrawal.grace
        elif row.state == "scheduled":
            ends = row.due
        else:
            continue  # written, sent, failed, or cancelled for good
        if ends > now:
            found[event_id] = ends
    return found


def attention(config: Config, store: Store, now: datetime) -> Attention:
    """Invitations with nobody to write to, messages skipped with their reason,
    messages that failed with the server's reply, sign-ins to make, and invitations for
    a process already withdrawn from."""
    upcoming = listing.invites(config, store, now, include_past=False)
    conn = store.connection
    return Attention(
        no_recipient=tuple(v for v in upcoming if v.recipient_email is None),
        skipped=(*mailbox.problems(conn), *calendar_db.problems(conn)),
        failed=tuple(e for e in thread_log.log_entries(config, store) if e.state == "failed"),
        signin=tuple(signin.needed(config)),
        late=tuple(state_db.late(config, store, now)),
    )
