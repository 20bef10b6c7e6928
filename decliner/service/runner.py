"""One pass of decliner's work: scan, gather flags, plan, and act through the outbox.

The outbox protocol (SPEC 5): render and store the exact bytes as `pending`
(commit); count the attempt (commit); send; record the outcome (commit). A
try whose outcome was never recorded (a crash) or that was cut during DATA is
only repeated after the sent folder has been searched for its Message-ID, and
then with the same bytes. Sent copies are filed once, and the invite marked
`\\Answered`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from decliner import failpoints
from decliner.config import Config
from decliner.core.letters.headers import RenderError, TemplateProblem
from decliner.core.parse.model import Address
from decliner.core.parse.replies import Reply
from decliner.core.plan import recipient as recipients
from decliner.core.plan.events import EventRecord
from decliner.core.plan.flags import MessageFlag, flag_sources, matching_rule
from decliner.core.plan.plan import (
    NEW_ROW,
    Cancel,
    Dispatch,
    Kind,
    Reschedule,
    Schedule,
    Situation,
    followup_due,
    plan,
    retry_delay,
)
from decliner.errors import DeclinerError
from decliner.mail.ingest import ScanReport
from decliner.mail.ports import MailSource, Transport
from decliner.service import letters
from decliner.service.rules import cancel_rules, flag_folder, policy_of
from decliner.store import Store, mailbox
from decliner.store import events as event_db
from decliner.store import flags as flag_db
from decliner.store import outbox as outbox_db
from decliner.store import thread as thread_db
from decliner.store.flags import Flag
from decliner.store.outbox import OutboxRow

if TYPE_CHECKING:  # imported by the pass only when needed
    from decliner.calendar.sync import CalendarReport
    from decliner.core.letters.render import Rendered
    from decliner.service.own_calendar import OwnCalendar

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    """What one pass did, for `run --once` and the daemon's status line."""

    scan: ScanReport = field(default_factory=ScanReport)
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    calendar: CalendarReport | None = None
    calendar_updates: list[str] = field(default_factory=list)
    calendar_problem: str = ""  # why the calendar could not be read or updated, if it could not
    booking: list[str] = field(default_factory=list)  # links the user should open (SPEC 15)


@dataclass(frozen=True)
class Intent:
    """What the user asked for one flagged event: since when, why, to whom."""

    since: datetime
    reason: str
    to: str


@dataclass(frozen=True)
class Snapshot:
    """What a pass knows, read once: events, their flags, our outbox rows and their replies."""

    events: Sequence[EventRecord]
    sources: Mapping[str, list[str]]
    intents: Mapping[str, Intent]
    rows: Mapping[tuple[str, str], OutboxRow]
    replies: Mapping[str, Sequence[Reply]]


class Runner:
    """Runs passes for one account; the clock and Message-ID tokens are injectable."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        now: Callable[[], datetime],
        token: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.config = config
        self.store = store
        self.now = now
        self.token = token
        self.me = Address(config.account.email, config.account.name)

    def run_once(
        self,
        source: MailSource,
        transport: Transport,
        calendar: OwnCalendar | None = None,
        *,
        skip: Collection[str] = (),
    ) -> PassReport:
        """Scan mail but the folders of `skip` (and the calendar), then bookkeep and plan once,
        then act; one attempt per due message and calendar update."""
        report = PassReport()
        report.scan = source.scan(skip)
        if calendar is not None:
            try:
                report.calendar = calendar.read()
            except DeclinerError as exc:
                report.calendar_problem = str(exc)
                log.warning("cannot read the calendar: %s", exc)
        snapshot, dispatches = self.settle()
        if dispatches:
            failpoints.hit("scheduled")
        for action in dispatches:
            self._dispatch(source, transport, action, snapshot, report)
        if calendar is not None:
            self._update_calendar(calendar, report)
        self._file_sent_copies(source, snapshot)
        return report

    def _update_calendar(self, calendar: OwnCalendar, report: PassReport) -> None:
        for row in calendar.due_rows():
            outcome, text = calendar.update(row)
            if outcome in ("sent", "absent"):
                report.calendar_updates.append(text)
            elif outcome == "permanent":
                report.failed.append(text)
                report.calendar_problem = text
            elif outcome == "temporary":
                report.retrying.append(text)
                report.calendar_problem = text

    # -- what the user wants -------------------------------------------------

    def sources(self, events: Sequence[EventRecord]) -> dict[str, list[str]]:
        """Why each event is flagged right now: config rules, keyword, flag folder, CLI."""
        conn = self.store.connection
        messages = [
            MessageFlag(m.folder, m.keyword, m.event_ids)
            for m in mailbox.messages(conn)
            if m.kind == "invite"
        ]
        return flag_sources(
            events,
            cancel_rules(self.config),
            messages,
            flag_db.cli_flag_ids(conn),
            flag_folder=flag_folder(self.config),
        )

    def snapshot(
        self,
        now: datetime,
        events: Sequence[EventRecord] | None = None,
        sources: Mapping[str, list[str]] | None = None,
    ) -> Snapshot:
        """Everything a plan or a listing needs, read once; reads only (flags newly seen in
        mail or config count from `now` until a pass stores them, in `settle`)."""
        conn = self.store.connection
        events = event_db.all_events(conn) if events is None else events
        sources = self.sources(events) if sources is None else sources
        flags = flag_db.with_derived(flag_db.all_flags(conn), sources, now)
        replies: dict[str, list[Reply]] = {}
        for reply in thread_db.replies(conn):
            replies.setdefault(reply.event_id, []).append(reply)
        return Snapshot(
            events=events,
            sources=sources,
            intents=self._intents(events, flags),
            rows={(r.event_id, r.kind): r for r in outbox_db.rows(conn)},
            replies=replies,
        )

    def _intents(self, events: Sequence[EventRecord], flags: Sequence[Flag]) -> dict[str, Intent]:
        rules = cancel_rules(self.config)
        by_event = {e.id: e for e in events}
        intents: dict[str, Intent] = {}
        for flag in flags:
            event = by_event.get(flag.event_id)
            if event is None:
                continue
            rule = matching_rule(event, rules)
            known = intents.get(flag.event_id)
            reason = flag.reason or (known.reason if known else "") or (rule.reason if rule else "")
            to = flag.to or (known.to if known else "") or (rule.to if rule else "")
            since = min(flag.first_seen, known.since) if known else flag.first_seen
            intents[flag.event_id] = Intent(since, reason, to)
        return intents

    def situations(self, snapshot: Snapshot) -> list[Situation]:
        """Every event with its flags, recipient and outbox rows, for planning."""
        found = []
        for event in snapshot.events:
            intent = snapshot.intents.get(event.id)
            withdrawal = snapshot.rows.get((event.id, "withdrawal"))
            followup = snapshot.rows.get((event.id, "followup"))
            found.append(
                Situation(
                    event=event,
                    flagged_since=intent.since if intent else None,
                    recipient=self.recipient(event, intent),
                    withdrawal=withdrawal.entry() if withdrawal else None,
                    followup=followup.entry() if followup else None,
                    replied=event.id in snapshot.replies,
                    reason=intent.reason if intent else "",
                )
            )
        return found

    def recipient(self, event: EventRecord, intent: Intent | None) -> Address | None:
        """Who the withdrawal goes to (SPEC 3), honouring `--to` and `[[cancel]].to`."""
        return recipients.resolve(event, self.config.account.addresses, intent.to if intent else "")

    # -- plan and bookkeeping ------------------------------------------------

    def settle(self) -> tuple[Snapshot, list[Dispatch]]:
        """Store newly seen flags, plan once and apply the bookkeeping, all in one transaction
        (so a CLI command and the daemon never plan on each other's half-applied state);
        the snapshot planned on, and the sends left to do."""
        now = self.now()
        with self.store.transaction() as conn:
            events = event_db.all_events(conn)
            sources = self.sources(events)
            flag_db.sync_derived(conn, sources, now)
            snapshot = self.snapshot(now, events, sources)
            actions = plan(self.situations(snapshot), now, policy_of(self.config))
            created: int | None = None  # what NEW_ROW stands for: the last Schedule's row
            dispatches = []
            for action in actions:
                if isinstance(action, Schedule):
                    created = outbox_db.schedule(
                        conn, action.event_id, action.kind, action.due, now
                    )
                    if created is not None:
                        log.info(
                            "%s for %s scheduled for %s", action.kind, action.event_id, action.due
                        )
                    continue
                row_id = created if action.row_id == NEW_ROW else action.row_id
                if row_id is None:
                    continue  # its row exists already: made by another process meanwhile
                if isinstance(action, Reschedule):
                    outbox_db.reschedule(conn, row_id, action.due)
                elif isinstance(action, Cancel):
                    outbox_db.cancel(conn, row_id, action.reason)
                    log.info("outbox row %s cancelled: %s", row_id, action.reason)
                else:
                    dispatches.append(replace(action, row_id=row_id))
        return snapshot, dispatches

    # -- sending ---------------------------------------------------------------

    def _dispatch(
        self,
        source: MailSource,
        transport: Transport,
        action: Dispatch,
        snapshot: Snapshot,
        report: PassReport,
    ) -> None:
        conn = self.store.connection
        row = snapshot.rows.get((action.event_id, action.kind))
        if row is None or row.id != action.row_id or row.state in ("scheduled", "cancelled"):
            try:
                rendered = self.render(action, snapshot)
            except (RenderError, TemplateProblem) as exc:
                log.error("%s for %s cannot be written: %s", action.kind, action.event_id, exc)  # noqa: TRY400 -- an expected failure (a template or a recipient): one line
                report.failed.append(f"{action.kind} {action.event_id}: {exc}")
                return
            with self.store.transaction():
                stored = outbox_db.store_rendered(
                    conn,
                    action.row_id,
                    message_id=rendered.message_id,
                    raw=rendered.raw,
                    to=rendered.to,
                    cc=rendered.cc,
                    subject=rendered.subject,
                    in_reply_to=rendered.in_reply_to,
                    references=rendered.references,
                )
            if not stored:
                return  # another process took the row meanwhile
            failpoints.hit("rendered")
            raw, message_id, to, attempts, outcome = (
                rendered.raw,
                rendered.message_id,
                rendered.to + rendered.cc,
                0,
                None,
            )
        elif row.state == "pending" and row.raw is not None and row.message_id is not None:
            raw, message_id, to, attempts, outcome = (
                row.raw,
                row.message_id,
                row.to + row.cc,
                row.attempts,
                row.last_outcome,
            )
        else:
            return
        label = f"{action.kind} {message_id} to {', '.join(to)}"
        if attempts and outcome in (None, "cut") and self._already_sent(source, message_id):
            now = self.now()
            with self.store.transaction():
                outbox_db.finish_attempt(conn, action.row_id, outcome="sent", now=now)
                self._queue_followup(action, now)
            log.info("%s was delivered by the cut attempt (found in the sent folder)", label)
            self._sent(action, label, report)
            return
        with self.store.transaction():
            if not outbox_db.begin_attempt(conn, action.row_id, self.now()):
                return
        failpoints.hit("attempt-begun")
        result = transport.send(raw, self.me.email, list(to))
        if result.outcome == "sent":
            failpoints.hit("smtp-accepted")
        now = self.now()
        with self.store.transaction():
            outbox_db.finish_attempt(
                conn,
                action.row_id,
                outcome=result.outcome,
                now=now,
                error=result.detail or None,
                retry_at=now + retry_delay(attempts + 1),
            )
            if result.outcome == "sent":
                self._queue_followup(action, now)
        if result.outcome == "sent":
            failpoints.hit("marked-sent")
            log.info("sent %s", label)
            self._sent(action, label, report)
        elif result.outcome == "permanent":
            log.error("%s refused for good: %s", label, result.detail)
            report.failed.append(f"{label}: {result.detail}")
        else:
            log.warning("%s not sent yet (%s); will retry", label, result.detail)
            report.retrying.append(f"{label}: {result.detail}")

    def _sent(self, action: Dispatch, label: str, report: PassReport) -> None:
        """Report a message sent; after a withdrawal, say which link frees the slot in the
        booking tool (SPEC 15): only the user opens it, decliner never does (link scanners
        have cancelled real bookings)."""
        report.sent.append(label)
        if action.kind != "withdrawal":
            return
        event = action.situation.event
        for link in event.booking_links:
            if link.action in ("cancel", "manage"):
                line = f"to free the slot in {link.tool}, open {link.url}"
                log.info("%s: %s", event.id, line)
                report.booking.append(f"{event.summary}: {line}")

    def _queue_followup(self, action: Dispatch, sent_at: datetime) -> None:
        """Queue a sent withdrawal's follow-up (SPEC 8) and the update of the user's own
        calendar (SPEC 13); called inside the transaction that records the withdrawal as
        sent, so no crash can leave one without the other."""
        if action.kind != "withdrawal":
            return
        conn = self.store.connection
        due = followup_due(sent_at, policy_of(self.config))
        if due is not None and outbox_db.schedule(conn, action.event_id, "followup", due, sent_at):
            log.info("followup for %s scheduled for %s", action.event_id, due)
        calendar = self.config.calendar
        if calendar is not None and calendar.on_withdraw != "none":
            outbox_db.schedule(
                conn,
                action.event_id,
                "calendar",
                sent_at,
                sent_at,
                action=calendar.on_withdraw,
                to=(calendar.url,),
            )

    def _already_sent(self, source: MailSource, message_id: str) -> bool:
        folder = source.sent_folder()
        if folder is None:
            return False
        try:
            return source.has_message_id(folder, message_id)
        except DeclinerError as exc:
            log.warning("cannot search %s for %s: %s", folder, message_id, exc)
            return False

    def _file_sent_copies(self, source: MailSource, snapshot: Snapshot) -> None:
        conn = self.store.connection
        uncopied = outbox_db.uncopied(conn)
        folder = source.sent_folder() if uncopied else None
        events = {e.id: e for e in snapshot.events}
        for row in uncopied:
            try:
                self._copy(source, folder, row)
            except DeclinerError as exc:
                # The message went out; only its copy is late. Try again next pass.
                log.warning(
                    "cannot file the sent copy of %s in %s: %s", row.message_id, folder, exc
                )
                return
            failpoints.hit("copy-filed")
            if row.kind == "withdrawal":
                self._mark_answered(source, events.get(row.event_id))
            with self.store.transaction():
                outbox_db.mark_copied(conn, row.id)

    def _mark_answered(self, source: MailSource, event: EventRecord | None) -> None:
        if event is None or not event.invite.folder or event.invite.from_calendar:
            return
        try:
            source.mark_answered(event.invite.folder, event.invite.uid)
        except DeclinerError as exc:
            log.warning("cannot mark the invitation answered: %s", exc)

    def _copy(self, source: MailSource, folder: str | None, row: OutboxRow) -> None:
        """File the sent bytes once: not again if the provider (or a crashed pass) did."""
        if folder is None or row.raw is None or row.message_id is None:
            return
        if not source.has_message_id(folder, row.message_id):
            source.append_sent(folder, row.raw, row.sent_at or self.now())

    # -- rendering -------------------------------------------------------------

    def preview(self, event: EventRecord, kind: Kind, *, token: str) -> Rendered:
        """The message for `event` as it would be written now (nothing is stored)."""
        now = self.now()
        snapshot = self.snapshot(now)
        situation = next(s for s in self.situations(snapshot) if s.event.id == event.id)
        short = event.start - now < self.config.withdrawal.min_notice
        return self.render(Dispatch(NEW_ROW, kind, situation, short), snapshot, token=token)

    def render(self, action: Dispatch, snapshot: Snapshot, *, token: str | None = None) -> Rendered:
        """Render the withdrawal or follow-up that `action` sends, from what it carries."""
        return letters.render(
            self.config, self.me, action, snapshot, now=self.now(), token=token or self.token()
        )
