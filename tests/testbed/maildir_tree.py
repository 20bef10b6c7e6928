"""Jane's Maildir++ tree in a temp dir, its config with the maildir transport, an
invitation to put in it, and a pass over it with what it left in the state db."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from decliner import config as cfg
from decliner.cli.main import cli
from decliner.core.plan.outbox import OutboxRow
from decliner.mail.maildir import folder_path
from decliner.service import passes, wiring
from decliner.store import outbox as outbox_db
from tests.testbed.mailfactory import google_invite
from tests.testbed.world import Clock

ME = "jane.doe@example.com"


SAM = "sam@acme.example"


SOON = datetime.now(UTC) + timedelta(days=10)


BERLIN_ZONE = "Europe/Berlin"


class Tree:
    """Jane's Maildir++ tree (INBOX, Decline, Sent), the outbox the transport writes, a config."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.root = tmp / "mail"
        box = mailbox.Maildir(self.root, create=True)
        for name in ("Decline", "Sent"):
            box.add_folder(name)

    def box(self, folder: str = "INBOX") -> mailbox.Maildir:
        return mailbox.Maildir(folder_path(self.root, folder), create=False)

    def add(self, raw: bytes, folder: str = "INBOX", *, flags: str = "") -> str:
        """Deliver `raw`; with `flags`, as a client that has read it and set those flags."""
        message = mailbox.MaildirMessage(raw)
        if flags:
            message.set_subdir("cur")
            message.set_flags(flags)
        return str(self.box(folder).add(message))

    def file(self, folder: str, key: str) -> Path:
        return next(
            p
            for sub in ("new", "cur")
            for p in (folder_path(self.root, folder) / sub).iterdir()
            if p.name.split(":")[0] == key
        )

    def copy(self, key: str, src: str = "INBOX", dst: str = "Decline") -> str:
        """Copy a message as mutt or aerc does: a new file (new key) in the other folder."""
        return str(self.box(dst).add(self.box(src).get_bytes(key)))

    def move(self, key: str, src: str = "INBOX", dst: str = "Decline") -> None:
        """Move a message as mbsync or a client does: rename the file into the other folder."""
        path = self.file(src, key)
        path.rename(folder_path(self.root, dst) / "cur" / path.name)

    def config(self, extra: str = "", grace: str = "0") -> cfg.Config:
        text = f"""
[account]
name = "Jane Doe"
email = "{ME}"
aliases = ["jdoe@example.org"]
timezone = "{BERLIN_ZONE}"

[maildir]
path = "mail"

[smtp]
transport = "maildir"
maildir_path = "outbox"

[withdrawal]
grace = "{grace}"

[state]
path = "state.db"
{extra}
"""
        path = self.tmp / "config.toml"
        path.write_text(text, encoding="utf-8")
        return cfg.load(path)

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(self.tmp / "config.toml"), *args])

    def received(self) -> list[EmailMessage]:
        """What the recruiters got: the maildir transport's messages, oldest first."""
        outbox = self.tmp / "outbox"
        if not outbox.exists():
            return []
        box = mailbox.Maildir(outbox, create=False)
        return [
            email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
            for k in sorted(box.keys(), key=lambda k: (self.file_time(outbox, k), k))
        ]

    @staticmethod
    def file_time(box: Path, key: str) -> int:
        return next(p.stat().st_mtime_ns for p in (box / "new").iterdir() if p.name == key)


def invite(uid: str = "g1@google.com", start: datetime = SOON) -> tuple[bytes, str]:
    return google_invite(
        organizer=SAM,
        organizer_name="Sam Recruiter",
        me=ME,
        uid=uid,
        start=start,
        summary="Interview with Acme",
    )


def run_pass(config: cfg.Config, clock: Clock | None = None) -> None:
    with wiring.open_store(config) as store:
        passes.run_once(config, store, now=clock or wiring.utcnow)


def outbox(config: cfg.Config) -> list[OutboxRow]:
    with wiring.open_store(config) as store:
        return outbox_db.rows(store.connection)


def invites_json(tree: Tree) -> dict[str, dict[str, Any]]:
    result = tree.cli("invites", "--all", "--json", "--cached")
    assert result.exit_code == 0, result.output
    return {r["uid"]: r for r in json.loads(result.stdout)}
