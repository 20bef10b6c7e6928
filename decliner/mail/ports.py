"""The two ports a pass needs: where mail is read (IMAP or Maildir) and how it is sent.

The runner talks only to these protocols, so the IMAP account, a local Maildir
tree, SMTP and the Maildir "transport" for dry runs are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Progress = Callable[[str, int, int], None]
"""Called as (folder, messages read, messages to read) during a scan."""


@dataclass
class ScanReport:
    """What a scan found, for the CLI and the daemon's status line."""

    folders: list[str] = field(default_factory=list)
    new_messages: int = 0
    invites: int = 0
    replies: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SendResult:
    """How one attempt ended.

    `sent`: the server took it. `temporary`: not delivered, try again later.
    `permanent`: the server refused it (5xx). `cut`: the connection broke
    during DATA, so the server may have taken it: retry only after looking
    for it in the sent folder, with the same bytes and Message-ID.
    """

    outcome: Literal["sent", "temporary", "permanent", "cut"]
    detail: str = ""


class MailSource(Protocol):
    """A mailbox decliner reads invitations and replies from, and files sent copies in."""

    def scan(self, skip: Collection[str] = ()) -> ScanReport:
        """Read what is new since the last pass into the state db, except in the folders of
        `skip` (watched by IDLE, which has reported nothing since)."""

    def sent_folder(self) -> str | None:
        """Where sent copies go; None when no copy is kept."""

    def has_message_id(self, folder: str, message_id: str) -> bool:
        """Whether `folder` holds a message with this Message-ID."""

    def append_sent(self, folder: str, raw: bytes, when: datetime) -> None:
        """File our exact bytes in `folder`, marked seen."""

    def mark_answered(self, folder: str, uid: int) -> None:
        """Mark the invite we replied to as answered."""

    def remove_keyword(self, folder: str, uids: Sequence[int], keyword: str) -> None:
        """Take the flag keyword off these messages."""


class Transport(Protocol):
    """How a message leaves: SMTP, or a local Maildir for dry runs."""

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> SendResult:
        """One attempt to deliver `raw`; never raises for a server's answer."""
