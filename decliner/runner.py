"""One pass of decliner's work: scan, gather flags, plan, and act through the outbox.

The outbox protocol (SPEC 5): render and store the exact bytes as `pending`
(commit); count the attempt (commit); send; record the outcome (commit). A
try whose outcome was never recorded (a crash) or that was cut during DATA is
only repeated after the sent folder has been searched for its Message-ID, and
then with the same bytes. Sent copies are filed once, and the invite marked
`\\Answered`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from decliner.config import WEEKDAYS, Config
from decliner.core import recipient as recipients
from decliner.core.events import EventRecord
from decliner.core.flags import CancelRule, MessageFlag, flag_sources, matching_rule
from decliner.core.headers import RenderError
from decliner.core.model import Address
from decliner.core.plan import (
    Cancel,
    Dispatch,
    Policy,
    Reschedule,
    Schedule,
    Situation,
    followup_due,
    plan,
    retry_delay,
)
from decliner.core.render import Rendered, render_followup, render_withdrawal
from decliner.core.templating import TemplateProblem
from decliner.errors import DeclinerError
from decliner.ingest import ScanReport
from decliner.ports import MailSource, Transport
from decliner.store import Store, mailbox
from decliner.store import events as event_db
from decliner.store import flags as flag_db
from decliner.store import outbox as outbox_db
from decliner.store import thread as thread_db
from decliner.store.outbox import OutboxRow

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    """What one pass did, for `run --once` and the daemon's status line."""

    scan: ScanReport = field(default_factory=ScanReport)
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def policy_of(config: Config) -> Policy:
    """The planning policy from the config."""
    days = frozenset(WEEKDAYS.index(d) for d in config.followup.business_days)
    return Policy(
        grace=config.withdrawal.grace,
        min_notice=config.withdrawal.min_notice,
        followup_enabled=config.followup.enabled,
        followup_delay=config.followup.delay,
        business_hours=config.followup.hours,
        business_days=days,
        skip_if_replied=config.followup.skip_if_replied,
        zone=config.account.zone,
    )


def flag_folder(config: Config) -> str:
    """The folder whose invites count as flagged ("" = none)."""
    if config.imap:
        return config.imap.flag_folder
    return config.maildir.flag_folder if config.maildir else ""


def cancel_rules(config: Config) -> list[CancelRule]:
    """The `[[cancel]]` tables as plain rules."""
    return [CancelRule(c.uid, c.summary, c.organizer, c.reason, c.to) for c in config.cancel]


@dataclass(frozen=True)
class Intent:
    """What the user asked for one flagged event: since when, why, to whom."""

    since: datetime
    reason: str
    to: str


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

    def run_once(self, source: MailSource, transport: Transport) -> PassReport:
        """Scan, then plan and act; one attempt per due message."""
        report = PassReport()
        report.scan = source.scan()
        for action in self.settle():
            self._dispatch(source, transport, action, report)
        self._file_sent_copies(source)
        return report

    # -- what the user wants -------------------------------------------------

    def sources(self, events: Sequence[EventRecord] | None = None) -> dict[str, list[str]]:
        """Why each event is flagged right now: config rules, keyword, flag folder, CLI."""
        conn = self.store.connection
        messages = [
            MessageFlag(m.folder, m.keyword, m.event_ids)
            for m in mailbox.messages(conn)
            if m.kind == "invite"
        ]
        return flag_sources(
            event_db.all_events(conn) if events is None else events,
            cancel_rules(self.config),
            messages,
            flag_db.cli_flag_ids(conn),
            flag_folder=flag_folder(self.config),
        )

    def intents(
        self,
        events: Sequence[EventRecord] | None = None,
        sources: Mapping[str, list[str]] | None = None,
    ) -> dict[str, Intent]:
        """Current flags by event, from mail, config and the CLI; reads only (a pass stores
        newly seen flags first, in `settle`)."""
        conn = self.store.connection
        events = event_db.all_events(conn) if events is None else events
        flags = flag_db.with_derived(
            flag_db.all_flags(conn),
            self.sources(events) if sources is None else sources,
            self.now(),
        )
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

    def situations(
        self,
        events: Sequence[EventRecord] | None = None,
        sources: Mapping[str, list[str]] | None = None,
    ) -> list[Situation]:
        """Every event with its flags, recipient and outbox rows, for planning."""
        conn = self.store.connection
        events = event_db.all_events(conn) if events is None else events
        intents = self.intents(events, sources)
        rows = {(r.event_id, r.kind): r for r in outbox_db.rows(conn)}
        answered = {reply.event_id for reply in thread_db.replies(conn)}
        found = []
        for event in events:
            intent = intents.get(event.id)
            withdrawal, followup = (
                rows.get((event.id, "withdrawal")),
                rows.get((event.id, "followup")),
            )
            found.append(
                Situation(
                    event=event,
                    flagged_since=intent.since if intent else None,
                    recipient=self.recipient(event, intent),
                    withdrawal=withdrawal.entry() if withdrawal else None,
                    followup=followup.entry() if followup else None,
                    replied=event.id in answered,
                )
            )
        return found

    def recipient(self, event: EventRecord, intent: Intent | None) -> Address | None:
        """Who the withdrawal goes to (SPEC 3), honouring `--to` and `[[cancel]].to`."""
        return recipients.resolve(event, self.config.account.addresses, intent.to if intent else "")

    # -- plan and bookkeeping ------------------------------------------------

    def settle(self) -> list[Dispatch]:
        """Apply the plan's bookkeeping until nothing new is scheduled; the sends left to do."""
        policy = policy_of(self.config)
        for _round in range(4):
            now = self.now()
            events = event_db.all_events(self.store.connection)
            sources = self.sources(events)
            with self.store.transaction() as conn:
                flag_db.sync_derived(conn, sources, now)
            actions = plan(self.situations(events, sources), now, policy)
            with self.store.transaction() as conn:
                for action in actions:
                    if isinstance(action, Schedule):
                        if outbox_db.schedule(conn, action.event_id, action.kind, action.due, now):
                            log.info(
                                "%s for %s scheduled for %s",
                                action.kind,
                                action.event_id,
                                action.due,
                            )
                    elif isinstance(action, Reschedule):
                        outbox_db.reschedule(conn, action.row_id, action.due)
                    elif isinstance(action, Cancel):
                        outbox_db.cancel(conn, action.row_id, action.reason)
                        log.info("outbox row %s cancelled: %s", action.row_id, action.reason)
            if not any(isinstance(a, Schedule | Reschedule) for a in actions):
                return [a for a in actions if isinstance(a, Dispatch)]
        return []

    # -- sending ---------------------------------------------------------------

    def _dispatch(
        self, source: MailSource, transport: Transport, action: Dispatch, report: PassReport
    ) -> None:
        conn = self.store.connection
        row = outbox_db.get(conn, action.row_id)
        if row.state == "scheduled":
            try:
                rendered = self.render(row, short_notice=action.short_notice)
            except (RenderError, TemplateProblem) as exc:
                log.error("%s for %s cannot be written: %s", row.kind, row.event_id, exc)
                report.failed.append(f"{row.kind} {row.event_id}: {exc}")
                return
            with self.store.transaction():
                outbox_db.store_rendered(
                    conn,
                    row.id,
                    message_id=rendered.message_id,
                    raw=rendered.raw,
                    to=rendered.to,
                    cc=rendered.cc,
                    subject=rendered.subject,
                    in_reply_to=rendered.in_reply_to,
                    references=rendered.references,
                )
            row = outbox_db.get(conn, row.id)
        if row.state != "pending" or row.raw is None or row.message_id is None:
            return
        label = f"{row.kind} {row.message_id} to {', '.join(row.to)}"
        if row.attempts and row.last_outcome in (None, "cut") and self._already_sent(source, row):
            now = self.now()
            with self.store.transaction():
                outbox_db.finish_attempt(conn, row.id, outcome="sent", now=now)
                self._queue_followup(row, now)
            log.info("%s was delivered by the cut attempt (found in the sent folder)", label)
            report.sent.append(label)
            return
        with self.store.transaction():
            if not outbox_db.begin_attempt(conn, row.id, self.now()):
                return
        result = asyncio.run(transport.send(row.raw, self.me.email, [*row.to, *row.cc]))
        now = self.now()
        with self.store.transaction():
            outbox_db.finish_attempt(
                conn,
                row.id,
                outcome=result.outcome,
                now=now,
                error=result.detail or None,
                retry_at=now + retry_delay(row.attempts + 1),
            )
            if result.outcome == "sent":
                self._queue_followup(row, now)
        if result.outcome == "sent":
            log.info("sent %s", label)
            report.sent.append(label)
        elif result.outcome == "permanent":
            log.error("%s refused for good: %s", label, result.detail)
            report.failed.append(f"{label}: {result.detail}")
        else:
            log.warning("%s not sent yet (%s); will retry", label, result.detail)
            report.retrying.append(f"{label}: {result.detail}")

    def _queue_followup(self, row: OutboxRow, sent_at: datetime) -> None:
        """Queue a sent withdrawal's follow-up (SPEC 8); called inside the transaction that
        records the withdrawal as sent, so no crash can leave one without the other."""
        due = followup_due(sent_at, policy_of(self.config)) if row.kind == "withdrawal" else None
        if due is not None and outbox_db.schedule(
            self.store.connection, row.event_id, "followup", due, sent_at
        ):
            log.info("followup for %s scheduled for %s", row.event_id, due)

    def _already_sent(self, source: MailSource, row: OutboxRow) -> bool:
        folder = source.sent_folder()
        if folder is None or row.message_id is None:
            return False
        try:
            return source.has_message_id(folder, row.message_id)
        except DeclinerError as exc:
            log.warning("cannot search %s for %s: %s", folder, row.message_id, exc)
            return False

    def _file_sent_copies(self, source: MailSource) -> None:
        conn = self.store.connection
        uncopied = outbox_db.uncopied(conn)
        folder = source.sent_folder() if uncopied else None
        for row in uncopied:
            try:
                self._copy(source, folder, row)
            except DeclinerError as exc:
                # The message went out; only its copy is late. Try again next pass.
                log.warning(
                    "cannot file the sent copy of %s in %s: %s", row.message_id, folder, exc
                )
                return
            if row.kind == "withdrawal":
                self._mark_answered(source, row.event_id)
            with self.store.transaction():
                outbox_db.mark_copied(conn, row.id)

    def _mark_answered(self, source: MailSource, event_id: str) -> None:
        event = event_db.by_id(self.store.connection, event_id)
        if event is None or not event.invite.folder:
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

    def render(
        self, row: OutboxRow, *, short_notice: bool = False, token: str | None = None
    ) -> Rendered:
        """The message for an outbox row (or a preview of it), not yet stored."""
        event = event_db.by_id(self.store.connection, row.event_id)
        if event is None:
            raise RenderError(f"event {row.event_id} is gone from the state db")
        return self.render_event(event, row.kind, short_notice=short_notice, token=token)

    def render_event(
        self, event: EventRecord, kind: str, *, short_notice: bool = False, token: str | None = None
    ) -> Rendered:
        """Render the withdrawal or follow-up of `event` as it would be sent now."""
        intent = self.intents().get(event.id)
        to = self.recipient(event, intent)
        if to is None:
            raise RenderError(
                "no recipient: the organizer is you or a robot and the invite names no one else"
            )
        cfg = self.config
        reason = (intent.reason if intent else "") or cfg.withdrawal.reason
        now = self.now()
        if kind == "withdrawal":
            return render_withdrawal(
                event=event,
                me=self.me,
                recipient=to,
                cc=[Address(a) for a in cfg.withdrawal.cc],
                reason=reason,
                offer_help=cfg.withdrawal.offer_help,
                keep_in_touch=cfg.withdrawal.keep_in_touch,
                short_notice=short_notice,
                now=now,
                zone=cfg.account.zone,
                token=token or self.token(),
                attach_decline=cfg.withdrawal.attach_decline,
                template=self._template(cfg.withdrawal.template),
            )
        withdrawal = next(
            (r for r in outbox_db.rows(self.store.connection, event.id) if r.kind == "withdrawal"),
            None,
        )
        if withdrawal is None or withdrawal.message_id is None:
            raise RenderError("the follow-up needs the withdrawal to be sent first")
        cc = (
            [a for a in event.other_attendees if _may_copy(a, cfg)]
            if cfg.followup.cc_attendees
            else []
        )
        # The follow-up answers the newest message of the thread: their reply, if one came.
        replies = thread_db.replies(self.store.connection, event.id)
        chain = [*withdrawal.references, withdrawal.message_id, *(r.message_id for r in replies)]
        return render_followup(
            event=event,
            me=self.me,
            recipient=to,
            cc=cc,
            in_reply_to=chain[-1],
            references=chain,
            withdrawal_date=withdrawal.sent_at or now,
            withdrawal_subject=withdrawal.subject,
            replied=bool(replies),
            now=now,
            zone=cfg.account.zone,
            token=token or self.token(),
            template=self._template(cfg.followup.template),
            reason=reason,
            offer_help=cfg.withdrawal.offer_help,
            keep_in_touch=cfg.withdrawal.keep_in_touch,
        )

    def _template(self, value: str) -> tuple[str, str] | None:
        if not value:
            return None
        path = self.config.resolve_path(value)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateProblem(str(path), None, f"cannot read the template: {exc}") from None


def _may_copy(address: Address, config: Config) -> bool:
    return address.email not in config.account.addresses and not recipients.is_robot(address.email)
