"""The user's own calendar in a pass: read invitations from it, and update it once a
withdrawal is sent, through the outbox (SPEC 13).

Calendar trouble never stops the mail: every failure here is caught, logged in one
line and kept in the pass report (the daemon's STATUS names it); a calendar row
whose update failed for a temporary reason waits for the same backoff as a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from decliner import failpoints
from decliner.calendar.client import CalDav, CalendarRefused, Collection
from decliner.calendar.sync import CalendarReader, CalendarReport
from decliner.calendar.update import apply
from decliner.config import Config
from decliner.config.credentials import calendar_credential
from decliner.core.plan.actions import UpdateCalendar
from decliner.core.plan.timing import retry_delay
from decliner.errors import DeclinerError
from decliner.store import Store
from decliner.store import calendars as calendar_db
from decliner.store import outbox as outbox_db

log = logging.getLogger(__name__)


def calendar_account(config: Config) -> CalDav:
    """The `[calendar]` account, not yet connected (the secret is fetched on first use)."""
    section = config.calendar
    if section is None:
        raise ValueError("no [calendar] section")
    return CalDav(
        section,
        lambda: calendar_credential(config),
        config.resolve_path(section.ca_file) if section.ca_file else None,
    )


class OwnCalendar:
    """The `[calendar]` account for passes: its collections are discovered once, then kept."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        now: Callable[[], datetime],
        caldav: CalDav | None = None,
    ) -> None:
        section = config.calendar
        if section is None:
            raise ValueError("no [calendar] section")
        self.config = config
        self.section = section
        self.store = store
        self.now = now
        self.caldav = caldav or calendar_account(config)
        self._collections: list[Collection] | None = None

    def collections(self) -> list[Collection]:
        """The calendars in use (discovered on first need)."""
        if self._collections is None:
            self._collections = self.caldav.collections()
        return self._collections

    def close(self) -> None:
        """Drop the connection and forget the discovery (a new pass starts over)."""
        self.caldav.close()
        self._collections = None

    # -- reading ---------------------------------------------------------------

    def read(self) -> CalendarReport:
        """Read what changed in the calendars, if `read_invites`; raises DeclinerError."""
        if not self.section.read_invites:
            return CalendarReport()
        reader = CalendarReader(self.config, self.store, self.caldav, now=self.now)
        try:
            return reader.read(self.collections())
        except DeclinerError:
            self.close()
            raise

    # -- updating --------------------------------------------------------------

    def update(self, act: UpdateCalendar) -> tuple[str, str]:
        """One attempt at a planned calendar update: (outcome, what to say), outcome being
        sent, absent, temporary, permanent or skipped. The attempt is counted before it starts."""
        conn = self.store.connection
        with self.store.transaction():
            row_id = outbox_db.row_id(conn, act.key)
            if row_id is None:
                return "skipped", ""
            outbox_db.start_update(conn, row_id)
            if not outbox_db.begin_attempt(conn, row_id, self.now()):
                return "skipped", ""
        failpoints.hit("calendar-begun")
        label = f"calendar {act.change} of {act.uid}"
        try:
            done = apply(
                self.caldav,
                self.collections(),
                uid=act.uid,
                recurrence_id=act.recurrence_id,
                change=act.change,
                addresses=self.config.account.addresses,
                zone=self.config.account.zone,
            )
        except CalendarRefused as exc:
            with self.store.transaction():
                outbox_db.finish_attempt(
                    conn, row_id, outcome="permanent", now=self.now(), error=str(exc)
                )
            log.error("%s refused: %s", label, exc)  # noqa: TRY400 -- the server's reason, one line
            return "permanent", f"{label}: {exc}"
        except DeclinerError as exc:
            self.close()
            now = self.now()
            with self.store.transaction():
                outbox_db.finish_attempt(
                    conn,
                    row_id,
                    outcome="temporary",
                    now=now,
                    error=str(exc),
                    retry_at=now + retry_delay(act.attempts + 1),
                )
            log.warning("%s not done yet (%s); will retry", label, exc)
            return "temporary", f"{label}: {exc}"
        result = done.result
        if result == "absent" and act.change == "delete" and act.cut:
            result = "done"  # our own delete, cut off before its outcome was recorded
        with self.store.transaction():
            if result == "absent":
                outbox_db.not_found(conn, row_id, done.calendar_url)
            else:
                outbox_db.set_target(conn, row_id, done.calendar_url)
                outbox_db.finish_attempt(conn, row_id, outcome="sent", now=self.now())
            for href, etag in self.caldav.written.items():
                calendar_db.note_written(conn, href, etag)
        self.caldav.written.clear()
        if result == "absent":
            log.info("%s: not found in calendar %s; nothing to change", label, done.calendar_url)
            return "absent", f"{act.uid} not found in {done.calendar_url}: nothing to change"
        verb = "deleted" if act.change == "delete" else "declined"
        log.info("%s %s in calendar %s", act.uid, verb, done.calendar_url)
        return "sent", f"{verb} {act.uid} in {done.calendar_url}"
