"""Mail past the read limits: calendars of many events or padded to any size, in a message
body or an attachment, and the CLI run that reports them."""

from __future__ import annotations

import base64
from pathlib import Path

from click.testing import CliRunner, Result

from decliner.cli.main import cli
from tests.testbed.imap_inbox import ME

MIB = 1024 * 1024


def calendar(uid: str, *, pad: int = 0, events: int = 1) -> bytes:
    """A REQUEST to ME with `events` VEVENTs and about `pad` bytes of X- lines."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "METHOD:REQUEST"]
    for n in range(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}-{n}",
            "DTSTAMP:20261123T100000Z",
            "DTSTART:20270110T140000Z",
            "DTEND:20270110T150000Z",
            "SUMMARY:Interview",
            "ORGANIZER:mailto:sam@acme.example",
            f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{ME}",
            "END:VEVENT",
        ]
    lines += ["X-PAD:" + "a" * 70] * (pad // 78)
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


def mail(uid: str, body: bytes, *, attach: bool = False) -> bytes:
    """`body` as the message's text/calendar part, or as a base64 `invite.ics` attachment."""
    head = (
        f"From: Sam <sam@acme.example>\r\nTo: {ME}\r\nSubject: Interview\r\n"
        f"Message-ID: <{uid}@acme.example>\r\nMIME-Version: 1.0\r\n"
    ).encode()
    if not attach:
        return head + (
            b"Content-Type: text/calendar; charset=UTF-8; method=REQUEST\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
        )
    encoded = base64.encodebytes(body).replace(b"\n", b"\r\n")
    return head + (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nSee the attachment.\r\n--b\r\n"
        b'Content-Type: application/octet-stream; name="invite.ics"\r\n'
        b'Content-Disposition: attachment; filename="invite.ics"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--b--\r\n"
    )


def cli_run(config_path: Path, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "400"}).invoke(cli, ["--config", str(config_path), *args])
