"""Carrying out a pass's plan through the outbox: write, store, try, record; file copies.

The protocol (SPEC 5): render and store the exact bytes as `pending` (commit); count the
attempt (commit); send; record the outcome, with what it sets off, (commit). Nothing
here decides what to do: each act says it, and `plan` made it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from decliner import failpoints
from decliner.core.letters.headers import RenderError, TemplateProblem
from decliner.core.plan.actions import Act, FileCopy, Letter, Resend, Send, UpdateCalendar
from decliner.core.plan.outbox import RowKey
from decliner.core.plan.timing import retry_delay
from decliner.errors import DeclinerError
from decliner.mail.ports import MailSource, Transport
from decliner.service.report import PassReport
from decliner.store import Store
from decliner.store import outbox as outbox_db

if TYPE_CHECKING:
    from decliner.core.letters.render import Rendered
    from decliner.service.own_calendar import OwnCalendar

log = logging.getLogger(__name__)

__all__ = ["Executor", "PassReport"]


@dataclass
class _Later:
    """Acts a pass runs after its planned mail: the REPLY messages of the process letters
    it sent, then calendar updates, then sent copies to file."""

    replies: list[Send] = field(default_factory=list)
    calendar: list[UpdateCalendar] = field(default_factory=list)
    copies: list[FileCopy] = field(default_factory=list)


class Executor:
    """One pass's acts, carried out in order over its ports; what happened goes to `report`."""

    def __init__(
        self,
        store: Store,
        source: MailSource,
        transport: Transport,
        report: PassReport,
        *,
        sender: str,
        write: Callable[[Letter], Rendered],
        now: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.source = source
        self.transport = transport
        self.report = report
        self.sender = sender
        self.write = write
        self.now = now
        self.later = _Later()

    def run(self, acts: Sequence[Act], calendar: OwnCalendar | None) -> None:
        """Mail first (each Send or Resend, in plan order, then the REPLY messages the
        process letters sent set off), then the calendar updates, then the copies,
        including those that this pass's sends set off."""
        if any(isinstance(act, Send | Resend) for act in acts):
            failpoints.hit("scheduled")
        for act in acts:
            if isinstance(act, Send):
                self._send(act)
            elif isinstance(act, Resend):
                self._resend(act)
            elif isinstance(act, UpdateCalendar):
                self.later.calendar.append(act)
            else:
                self.later.copies.append(act)
        for reply in self.later.replies:
            self._send(reply)
        if calendar is not None:
            for update in self.later.calendar:
                self._calendar_outcome(*calendar.update(update))
        self._file_copies(self.later.copies)

    def _send(self, act: Send) -> None:
        """Write the letter, store its bytes (the row becomes pending), make the first try."""
        key = act.key
        try:
            rendered = self.write(act.letter)
        except (RenderError, TemplateProblem) as exc:
            log.error("%s for %s cannot be written: %s", key.kind, key.event_id, exc)  # noqa: TRY400 -- an expected failure (a template or a recipient): one line
            self.report.failed.append(f"{key.kind} {key.event_id}: {exc}")
            return
        with self.store.transaction() as conn:
            stored = outbox_db.store_rendered(
                conn,
                outbox_db.planned_row_id(self.store.connection, key),
                message_id=rendered.message_id,
                raw=rendered.raw,
                to=rendered.to,
                cc=rendered.cc,
                subject=rendered.subject,
                in_reply_to=rendered.in_reply_to,
                references=rendered.references,
                covers=act.after.covers,
            )
        if not stored:
            return  # another process took the row meanwhile
        failpoints.hit("rendered")
        first = Resend(
            key,
            rendered.message_id,
            rendered.raw,
            rendered.to + rendered.cc,
            attempts=0,
            look_in_sent=False,
            after=act.after,
        )
        self._resend(first)

    def _resend(self, act: Resend) -> None:
        """One attempt at stored bytes; after a cut try, only if the sent folder lacks them."""
        key, row_id = act.key, outbox_db.planned_row_id(self.store.connection, act.key)
        label = f"{key.kind} {act.message_id} to {', '.join(act.recipients)}"
        if act.look_in_sent and self._already_sent(act.message_id):
            now = self.now()
            with self.store.transaction() as conn:
                outbox_db.finish_attempt(conn, row_id, outcome="sent", now=now)
                self._after_sent(act, now)
            log.info("%s was delivered by the cut attempt (found in the sent folder)", label)
            self._sent(act, label, now)
            return
        with self.store.transaction() as conn:
            if not outbox_db.begin_attempt(conn, row_id, self.now()):
                return
        failpoints.hit("attempt-begun")
        result = self.transport.send(act.raw, self.sender, list(act.recipients))
        if result.outcome == "sent":
            failpoints.hit("smtp-accepted")
        now = self.now()
        with self.store.transaction() as conn:
            outbox_db.finish_attempt(
                conn,
                row_id,
                outcome=result.outcome,
                now=now,
                error=result.detail or None,
                retry_at=now + retry_delay(act.attempts + 1),
            )
            if result.outcome == "sent":
                self._after_sent(act, now)
        if result.outcome == "sent":
            failpoints.hit("marked-sent")
            log.info("sent %s", label)
            self._sent(act, label, now)
        elif result.outcome == "permanent":
            log.error("%s refused for good: %s", label, result.detail)
            self.report.failed.append(f"{label}: {result.detail}")
        else:
            log.warning("%s not sent yet (%s); will retry", label, result.detail)
            self.report.retrying.append(f"{label}: {result.detail}")

    def _after_sent(self, act: Resend, sent_at: datetime) -> None:
        """Queue what a sent message sets off (SPEC 8, 13), inside the transaction that
        records it sent, so no crash can leave a withdrawal without its follow-up."""
        conn, after = self.store.connection, act.after
        due = after.followup_due(sent_at)
        followup = RowKey(act.key.event_id, "followup")
        if due is not None and outbox_db.schedule(
            conn, followup.event_id, followup.kind, due, sent_at
        ):
            log.info("followup for %s scheduled for %s", followup.event_id, due)
        updates = [after.calendar, *(other.calendar for other in after.others)]
        for update in updates:
            if update is not None:
                outbox_db.schedule(
                    conn,
                    update.key.event_id,
                    "calendar",
                    sent_at,
                    sent_at,
                    change=update.change,
                    to=(after.calendar_url,),
                )
        for other in after.others:
            if other.reply is not None:
                outbox_db.schedule(conn, other.event_id, "decline", sent_at, sent_at)

    def _sent(self, act: Resend, label: str, sent_at: datetime) -> None:
        """Report a message sent and line up what follows it in this pass: the calendar
        update and the sent copy. Say which link frees the slot in the booking tool
        (SPEC 15): only the user opens it, decliner never does (link scanners have
        cancelled real bookings)."""
        self.report.sent.append(label)
        after = act.after
        for update in (after.calendar, *(other.calendar for other in after.others)):
            if update is not None:
                self.later.calendar.append(update)
        self.later.replies += [o.reply for o in after.others if o.reply is not None]
        self.later.copies.append(
            FileCopy(act.key, act.message_id, act.raw, sent_at, after.answered)
        )
        for link in after.booking:
            line = f"to free the slot in {link.tool}, open {link.url}"
            log.info("%s: %s", act.key.event_id, line)
            self.report.booking.append(f"{after.summary}: {line}")

    def _already_sent(self, message_id: str) -> bool:
        folder = self.source.sent_folder()
        if folder is None:
            return False
        try:
            return self.source.has_message_id(folder, message_id)
        except DeclinerError as exc:
            log.warning("cannot search %s for %s: %s", folder, message_id, exc)
            return False

    # -- filing ------------------------------------------------------------------

    def _file_copies(self, copies: list[FileCopy]) -> None:
        folder = self.source.sent_folder() if copies else None
        for copy in copies:
            try:
                self._copy(folder, copy)
            except DeclinerError as exc:
                # The message went out; only its copy is late. Try again next pass.
                log.warning(
                    "cannot file the sent copy of %s in %s: %s", copy.message_id, folder, exc
                )
                return
            failpoints.hit("copy-filed")
            if copy.answered is not None:
                try:
                    self.source.mark_answered(copy.answered.folder, copy.answered.uid)
                except DeclinerError as exc:
                    log.warning("cannot mark the invitation answered: %s", exc)
            with self.store.transaction() as conn:
                outbox_db.mark_copied(
                    conn, outbox_db.planned_row_id(self.store.connection, copy.key)
                )

    def _copy(self, folder: str | None, copy: FileCopy) -> None:
        """File the sent bytes once: not again if the provider (or a crashed pass) did."""
        if folder is None or copy.raw is None or copy.message_id is None:
            return
        if not self.source.has_message_id(folder, copy.message_id):
            self.source.append_sent(folder, copy.raw, copy.sent_at or self.now())

    def _calendar_outcome(self, outcome: str, text: str) -> None:
        report = self.report
        if outcome in ("sent", "absent"):
            report.calendar_updates.append(text)
        elif outcome == "permanent":
            report.failed.append(text)
            report.calendar_problem = text
        elif outcome == "temporary":
            report.retrying.append(text)
            report.calendar_problem = text
