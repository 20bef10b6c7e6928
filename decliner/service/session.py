"""The daemon's session: the state db it holds locked, and the mail connection it keeps open.

It lives with the service layer, which owns how the store and the ports are
opened; the daemon drives it from its worker thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from decliner.config import Config
from decliner.errors import ConnectionFailure, LockedError
from decliner.mail.ports import MailSource
from decliner.service import wiring
from decliner.service.execute import PassReport
from decliner.service.runner import Runner
from decliner.store import Store
from decliner.store import events as event_db
from decliner.store import outbox as outbox_db

if TYPE_CHECKING:
    from decliner.service.own_calendar import OwnCalendar


class DaemonSession:
    """What lives on the worker thread: the store, the lock, and the command connection."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.store: Store | None = None
        self._source: contextlib.ExitStack | None = None
        self.source: MailSource | None = None
        self.calendar: OwnCalendar | None = None

    def open(self) -> None:
        """Open the state db and take the daemon lock (raises LockedError if taken)."""
        self.store = wiring.open_store(self.config)
        try:
            self.store.lock_daemon()
        except LockedError:
            self.store.close()
            self.store = None
            raise

    def connect(self) -> MailSource:
        """Log in (or open the Maildir) unless connected; the connection is kept between passes."""
        assert self.store is not None  # noqa: S101 -- open() always runs first
        if self.source is None:
            stack = contextlib.ExitStack()
            self.source = stack.enter_context(wiring.mail_source(self.config, self.store))
            self._source = stack
        return self.source

    def run_pass(self, skip: Collection[str] = ()) -> PassReport:
        """One pass over the kept-open connection, but the folders of `skip`; a broken
        connection is dropped and re-raised."""
        assert self.store is not None  # noqa: S101 -- open() always runs first
        source = self.connect()
        try:
            if self.calendar is None:
                self.calendar = wiring.open_calendar(self.config, self.store)
            return Runner(self.config, self.store, now=wiring.utcnow).run_once(
                source, wiring.transport(self.config), self.calendar, skip=skip
            )
        except ConnectionFailure:
            self.disconnect()
            raise

    def due_times(self) -> dict[int, datetime]:
        """Outbox rows waiting for a time: row id -> when it is due."""
        assert self.store is not None  # noqa: S101 -- open() always runs first
        return {
            row.id: row.due
            for row in outbox_db.rows(self.store.connection)
            if row.state in ("scheduled", "pending")
        }

    def counts(self) -> tuple[int, datetime | None]:
        """How many upcoming invites, and when the next message is due."""
        assert self.store is not None  # noqa: S101 -- open() always runs first
        now = wiring.utcnow()
        invites = event_db.upcoming_count(self.store.connection, now)
        dues = [d for d in self.due_times().values() if d > now]
        return invites, min(dues, default=None)

    def disconnect(self) -> None:
        """Close the command connection (it is reopened by the next pass)."""
        stack, self._source, self.source = self._source, None, None
        if stack is not None:
            with contextlib.suppress(Exception):
                stack.close()

    def close(self) -> None:
        """Disconnect, release the lock and close the db."""
        self.disconnect()
        if self.calendar is not None:
            self.calendar.close()
            self.calendar = None
        if self.store is not None:
            self.store.close()
            self.store = None
