"""What the commands do, over the ports: scan, list invites. Returns data; never prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from decliner import imap
from decliner.config import Config
from decliner.core import recipient
from decliner.core.events import EventRecord
from decliner.core.flags import CancelRule, MessageFlag, first_source, flag_sources, matching_rule
from decliner.core.status import Facts, Status, status
from decliner.errors import UserError
from decliner.store import Store, mailbox
from decliner.store import events as event_db
from decliner.sync import Progress, Scanner, ScanReport


def utcnow() -> datetime:
    """The current instant; the one place the shell reads the clock."""
    return datetime.now(UTC)


def open_store(config: Config) -> Store:
    """The account's state db, created on first use."""
    return Store.open(config.state_path())


def scan(config: Config, store: Store, progress: Progress | None = None) -> ScanReport:
    """One incremental pass over the mail folders."""
    with imap.session(config) as client:
        return Scanner(config, store, now=utcnow, progress=progress).scan(client)


@dataclass(frozen=True)
class InviteView:
    """One row of `decliner invites`, as the JSON output names its fields."""

    event: EventRecord
    status: Status
    flagged_by: str | None
    recipient_email: str | None
    recipient_name: str

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
            "sequence": e.sequence,
        }


def cancel_rules(config: Config) -> list[CancelRule]:
    """The `[[cancel]]` tables as plain rules."""
    return [CancelRule(c.uid, c.summary, c.organizer, c.reason, c.to) for c in config.cancel]


def invites(config: Config, store: Store, now: datetime, *, include_past: bool) -> list[InviteView]:
    """The known invitations with status and flags.

    Without `include_past`, only those still ahead and not cancelled by the organizer.
    """
    conn = store.connection
    records = event_db.all_events(conn)
    rules = cancel_rules(config)
    messages = [
        MessageFlag(m.folder, m.keyword, m.event_ids)
        for m in mailbox.messages(conn)
        if m.kind == "invite"
    ]
    cli_flags = [
        row["event_id"] for row in conn.execute("SELECT event_id FROM flags WHERE source = 'cli'")
    ]
    flag_folder = (
        config.imap.flag_folder
        if config.imap
        else (config.maildir.flag_folder if config.maildir else "")
    )
    sources = flag_sources(records, rules, messages, cli_flags, flag_folder=flag_folder)
    views = []
    for event in records:
        if not include_past and (event.start <= now or event.cancelled_by_organizer):
            continue
        rule = matching_rule(event, rules)
        to = recipient.resolve(event, config.account.addresses, rule.to if rule else "")
        facts = Facts(
            start=event.start,
            cancelled_by_organizer=event.cancelled_by_organizer,
            flagged=event.id in sources,
            has_recipient=to is not None,
        )
        views.append(
            InviteView(
                event=event,
                status=status(facts, now),
                flagged_by=first_source(sources, event.id),
                recipient_email=to.email if to else None,
                recipient_name=to.name if to else "",
            )
        )
    return views


def find_event(store: Store, key: str) -> EventRecord:
    """An event by short id, unique id prefix, or full UID; ambiguity lists the candidates."""
    records = event_db.all_events(store.connection)
    exact = [e for e in records if key in {e.id, e.uid}]
    matches = exact or [e for e in records if e.id.startswith(key.lower())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UserError(f"no invitation matches {key!r}; see `decliner invites --all`")
    raise UserError(f"{key!r} is ambiguous: " + ", ".join(_label(e) for e in _first(matches, 8)))


def _label(event: EventRecord) -> str:
    return f"{event.id} ({event.summary[:40]}, {event.start:%Y-%m-%d})"


def _first(items: Sequence[EventRecord], n: int) -> Sequence[EventRecord]:
    return items[:n]
