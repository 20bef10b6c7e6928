r"""One pass of decliner's work: scan, settle (flags, snapshot, plan, bookkeeping), act.

The outbox protocol (SPEC 5): render and store the exact bytes as `pending`
(commit); count the attempt (commit); send; record the outcome (commit). A
try whose outcome was never recorded (a crash) or that was cut during DATA is
only repeated after the sent folder has been searched for its Message-ID, and
then with the same bytes. Sent copies are filed once, and the invite marked
`\Answered`. What to do is decided by `plan`; this module only carries it out.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from decliner.config import Config
from decliner.core.parse.model import Address
from decliner.core.plan.actions import (
    Act,
    Cancel,
    Letter,
    LetterKind,
    Reschedule,
    Schedule,
)
from decliner.core.plan.cover import cover
from decliner.core.plan.events import EventRecord
from decliner.core.plan.outbox import RowKey
from decliner.core.plan.plan import plan, process_letter_for
from decliner.errors import DeclinerError
from decliner.mail.ports import MailSource, Transport
from decliner.service import letters, quiet_pass
from decliner.service import snapshot as read_model
from decliner.service.execute import Executor, PassReport
from decliner.service.policy import policy_of
from decliner.service.snapshot import Snapshot
from decliner.store import Store
from decliner.store import flags as flag_db
from decliner.store import outbox as outbox_db
from decliner.store import seal as seal_db

if TYPE_CHECKING:  # imported by the pass only when needed
    from decliner.core.letters.render import Rendered
    from decliner.service.own_calendar import OwnCalendar

log = logging.getLogger(__name__)


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
        # Invitations that arrived for a process already withdrawn from (SPEC 18), each
        # warned about once per runner: event id -> the event whose letter withdrew.
        self.late: dict[str, str] = {}

    def run_once(
        self,
        source: MailSource,
        transport: Transport,
        calendar: OwnCalendar | None = None,
        *,
        skip: Collection[str] = (),
        seal: str = "",
    ) -> PassReport:
        """Scan mail but the folders of `skip` (and the calendar), settle once, then act:
        one attempt per due message and calendar update. With `seal` (the validated
        config's digest), a pass that leaves nothing to do seals the db for the next
        quiet `run --once` (`quiet_pass.py`)."""
        report = PassReport()
        report.scan = source.scan(skip)
        if calendar is not None:
            try:
                report.calendar = calendar.read()
            except DeclinerError as exc:
                report.calendar_problem = str(exc)
                log.warning("cannot read the calendar: %s", exc)
        arrived = report.scan.invites + (report.calendar.invites if report.calendar else 0)
        sealing = (seal, quiet_pass.plan_of(self.config, report.scan.folders)) if seal else None
        _snapshot, acts = self.settle(wide=arrived > 0, seal=sealing)
        executor = Executor(
            self.store,
            source,
            transport,
            report,
            sender=self.me.email,
            write=self.render,
            now=self.now,
        )
        executor.run(acts, calendar)
        return report

    # -- plan and bookkeeping ------------------------------------------------

    def settle(
        self, *, wide: bool = False, seal: tuple[str, dict[str, Any] | None] | None = None
    ) -> tuple[Snapshot, list[Act]]:
        """Store newly seen flags, plan once and apply the bookkeeping, all in one transaction
        (so a CLI command and the daemon never plan on each other's half-applied state);
        the snapshot planned on, and the acts left to do. `wide`: new invitations arrived,
        so every upcoming event is read (one may be late for a withdrawn process). `seal`:
        (config digest, quiet check's plan) to seal the db with, in the same transaction,
        if this plan leaves nothing to do (a write committed after it breaks the seal)."""
        now = self.now()
        with self.store.transaction() as conn:
            snapshot = read_model.read(self.config, conn, now, acting_only=True, wide=wide)
            flag_db.sync_derived(conn, snapshot.sources, now)
            situations = read_model.situations(self.config, snapshot)
            letters = cover(situations, now)
            actions = plan(situations, now, policy_of(self.config), letters)
            if wide:  # only a wide read holds every upcoming invitation
                self._warn_late(letters.late)
            taken: set[RowKey] = set()  # rows another process made meanwhile: theirs to act on
            acts: list[Act] = []
            for action in actions:
                if isinstance(action, Schedule):
                    made = outbox_db.schedule(
                        conn,
                        action.key.event_id,
                        action.key.kind,
                        action.due,
                        now,
                        change=action.change,
                        to=(action.calendar_url,) if action.calendar_url else (),
                    )
                    if made is None:
                        taken.add(action.key)
                    else:
                        log.info(
                            "%s for %s scheduled for %s",
                            action.key.kind,
                            action.key.event_id,
                            action.due,
                        )
                elif action.key in taken:
                    continue
                elif isinstance(action, Reschedule):
                    outbox_db.reschedule(
                        conn,
                        outbox_db.planned_row_id(self.store.connection, action.key),
                        action.due,
                    )
                elif isinstance(action, Cancel):
                    outbox_db.cancel(
                        conn,
                        outbox_db.planned_row_id(self.store.connection, action.key),
                        action.reason,
                    )
                    log.info(
                        "%s for %s cancelled: %s",
                        action.key.kind,
                        action.key.event_id,
                        action.reason,
                    )
                else:
                    acts.append(action)
            if seal is not None:
                digest, check = seal
                seal_db.store(conn, digest, None if acts else check)
        return snapshot, acts

    def _warn_late(self, late: dict[str, str]) -> None:
        for event, lead in late.items():
            if event not in self.late:
                log.warning(
                    "invitation %s arrived for a hiring process you withdrew from (the letter"
                    " about %s); it is not answered automatically: flag it to decline it",
                    event,
                    lead,
                )
        self.late |= late

    # -- rendering -------------------------------------------------------------

    def preview(self, event: EventRecord, kind: LetterKind, *, token: str) -> Rendered:
        """The message for `event` as it would be written now (nothing is stored)."""
        now = self.now()
        snapshot = read_model.read(self.config, self.store.connection, now)
        situations = read_model.situations(self.config, snapshot)
        letter = process_letter_for(situations, event.id, kind, now, policy_of(self.config))
        return self.render(letter, token=token)

    def render(self, letter: Letter, *, token: str | None = None) -> Rendered:
        """Write `letter` out with the config's wording, a fresh Message-ID token each time."""
        return letters.render(
            self.config, self.me, letter, now=self.now(), token=token or self.token()
        )
