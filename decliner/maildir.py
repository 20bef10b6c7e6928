"""Local Maildir++ trees: the Maildir transport (dry runs, the demo).

Uses the standard library's `mailbox.Maildir`, which writes through `tmp/` and
renames into `new/`, so a reader never sees half a message.
"""

from __future__ import annotations

import mailbox
from collections.abc import Sequence
from pathlib import Path

from decliner.smtp import SendResult


class MaildirTransport:
    """A `Transport` that files each message in a local Maildir instead of sending it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> SendResult:
        """Deliver `raw` into the Maildir's `new/`; envelope data goes in headers for reading."""
        try:
            box = mailbox.Maildir(self.path, create=True)
            envelope = f"X-Envelope-From: {sender}\r\nX-Envelope-To: {', '.join(recipients)}\r\n".encode()
            box.add(envelope + raw)
        except OSError as exc:
            return SendResult("temporary", f"cannot write to {self.path}: {exc.strerror}")
        return SendResult("sent")
