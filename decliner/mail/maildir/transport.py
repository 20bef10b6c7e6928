"""The maildir "transport": outgoing mail filed in a local Maildir instead of sent (dry runs, the demo)."""

from __future__ import annotations

import mailbox
from collections.abc import Sequence
from pathlib import Path

from decliner.mail.ports import SendResult


class MaildirTransport:
    """A `Transport` that files each message in a local Maildir instead of sending it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> SendResult:
        """Deliver `raw` into the Maildir's `new/`; envelope data goes in headers for reading."""
        try:
            box = mailbox.Maildir(self.path, create=True)
            envelope = (
                f"X-Envelope-From: {sender}\r\nX-Envelope-To: {', '.join(recipients)}\r\n".encode()
            )
            box.add(envelope + raw)
        except OSError as exc:
            return SendResult("temporary", f"cannot write to {self.path}: {exc.strerror}")
        return SendResult("sent")
