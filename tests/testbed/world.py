"""The end-to-end test world: Jane (the user), Sam (a recruiter), the servers, a clock."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from click.testing import CliRunner, Result

from decliner.cli.main import cli
from decliner.config import Config
from decliner.core.plan.outbox import OutboxRow
from decliner.service import passes, wiring
from decliner.store import outbox as outbox_db
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.mailfactory import google_invite
from tests.testbed.smtpd import SmtpServers

SOON = datetime.now(UTC) + timedelta(days=10)


@dataclass
class World:
    """The user Jane, a recruiter Sam, the servers, and Jane's config."""

    dovecot: Dovecot
    smtp: SmtpServers
    jane: Account
    sam: Account
    tmp: Path

    def config(self, extra: str = "", grace: str = "0") -> Config:
        text = config_text(
            self.dovecot,
            self.jane,
            self.tmp,
            smtp_port=self.smtp.plain.port,
            extra=f'\n[withdrawal]\ngrace = "{grace}"\n{extra}',
        )
        return load_config(text, self.tmp)

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(self.tmp / "config.toml"), *args])

    def received(self, account: Account) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)
            for raw in self.dovecot.fetch_all(account, "INBOX")
        ]

    def invite(
        self, uid: str, *, start: datetime | None = None, flagged: bool = True, name: str = "Sam"
    ) -> tuple[int, str]:
        """A Google-style invite from Sam in Jane's INBOX (with the flag keyword): IMAP UID, Message-ID."""
        raw, message_id = google_invite(
            organizer=self.sam.address,
            organizer_name=name,
            me=self.jane.address,
            uid=uid,
            start=start or SOON,
        )
        imap_uid = self.dovecot.append(
            self.jane, "INBOX", raw, keywords=["Decline"] if flagged else []
        )
        return imap_uid, message_id

    def sent_by_jane(self) -> list[bytes]:
        return [m.data for m in self.smtp.plain.messages if m.mail_from == self.jane.address]


class Clock:
    """A settable clock for the runner."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def run_pass(config: Config, clock: Callable[[], datetime]) -> None:
    """One pass of the real pipeline at the clock's time."""
    with wiring.open_store(config) as store:
        passes.run_once(config, store, now=clock)


def outbox(config: Config) -> list[OutboxRow]:
    with wiring.open_store(config) as store:
        return outbox_db.rows(store.connection)
