"""In-memory versions of decliner's own ports (MailSource, Transport) and a runner over
them with the real SQLite store: for unit tests of the runner, no server involved."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from decliner import config as cfg
from decliner.core.plan.events import EventRecord
from decliner.core.plan.outbox import OutboxRow
from decliner.mail.ingest import ScanReport
from decliner.mail.ports import SendResult
from decliner.service.runner import Runner
from decliner.store import Store
from decliner.store import events as event_db
from decliner.store import outbox as outbox_db

START = datetime(2026, 12, 1, 10, tzinfo=UTC)  # a Tuesday

CONFIG = """
[account]
name = "Jane Doe"
email = "jane@example.com"
timezone = "UTC"
[maildir]
path = "mail"
[smtp]
transport = "maildir"
maildir_path = "outbox"
[withdrawal]
grace = "5m"
attach_decline = false
[followup]
delay = "1d"
[state]
path = "state.db"
"""


@dataclass
class MemoryMailbox:
    """A MailSource whose scan finds `events` once, and which keeps a sent folder."""

    store: Store
    events: list[EventRecord] = field(default_factory=list)
    sent: dict[str, bytes] = field(default_factory=dict)  # Message-ID -> bytes
    answered: list[tuple[str, int]] = field(default_factory=list)

    def scan(self, skip: Collection[str] = ()) -> ScanReport:
        with self.store.transaction() as conn:
            for record in self.events:
                event_db.save(conn, record, START)
        found, self.events = len(self.events), []
        return ScanReport(invites=found)

    def sent_folder(self) -> str | None:
        return "Sent"

    def has_message_id(self, folder: str, message_id: str) -> bool:
        return message_id in self.sent

    def append_sent(self, folder: str, raw: bytes, when: datetime) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.sent[str(message["Message-ID"])] = raw

    def mark_answered(self, folder: str, uid: int) -> None:
        self.answered.append((folder, uid))

    def remove_keyword(self, folder: str, uids: Sequence[int], keyword: str) -> None:
        raise AssertionError("a pass never removes keywords")


@dataclass
class MemoryTransport:
    """A Transport that answers each attempt with the next outcome (then `sent`)."""

    outcomes: list[SendResult] = field(default_factory=list)
    attempts: list[tuple[bytes, tuple[str, ...]]] = field(default_factory=list)

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> SendResult:
        self.attempts.append((raw, tuple(recipients)))
        return self.outcomes.pop(0) if self.outcomes else SendResult("sent")


class Clock:
    """The pass's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Bench:
    """A runner, its ports and its clock over a fresh state db."""

    runner: Runner
    mailbox: MemoryMailbox
    transport: MemoryTransport
    clock: Clock
    store: Store

    def run(self) -> None:
        self.runner.run_once(self.mailbox, self.transport)

    def rows(self) -> dict[str, OutboxRow]:
        """The outbox rows by kind (for a test with one event)."""
        return {r.kind: r for r in outbox_db.rows(self.store.connection)}

    def all_rows(self) -> list[OutboxRow]:
        """Every outbox row, oldest first."""
        return outbox_db.rows(self.store.connection)


def make_bench(folder: Path, events: Sequence[EventRecord], config: str = CONFIG) -> Bench:
    """A bench over a fresh state db in `folder` that already knows `events`."""
    (folder / "config.toml").write_text(config, encoding="utf-8")
    loaded = cfg.load(folder / "config.toml")
    store = Store.open(loaded.state_path())
    clock = Clock()
    tokens = iter(f"t{n}" for n in range(1000))
    runner = Runner(loaded, store, now=clock, token=lambda: next(tokens))
    mailbox = MemoryMailbox(store, list(events))
    mailbox.scan()
    return Bench(runner, mailbox, MemoryTransport(), clock, store)
