"""The corpus user's IMAP inbox: a config for it, the minimal invitations and plain mail
put in it, and the events a pass stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from decliner.config import Config
from decliner.core.plan.events import EventRecord
from decliner.service import wiring
from decliner.store import events as event_db
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config

ME = "jane.doe@example.com"


ALIASES = ("jdoe@example.org",)


NOW = datetime(2026, 11, 25, tzinfo=UTC)


def corpus_config(dovecot: Dovecot, account: Account, tmp_path: Path, **kw: Any) -> Config:
    return load_config(
        config_text(dovecot, account, tmp_path, me=ME, aliases=ALIASES, **kw), tmp_path
    )


def invite(
    uid: str, start: str, subject: str = "Interview", seq: int = 0, method: str = "REQUEST"
) -> bytes:
    """A minimal Google-style invitation to the corpus user."""
    return (
        f"From: Sam Recruiter <sam@acme.example>\r\n"
        f"To: {ME}\r\nSubject: {subject}\r\nMessage-ID: <{uid}.{seq}@acme.example>\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: text/calendar; charset="UTF-8"; method={method}\r\n\r\n'
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:{method}\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:{seq}\r\nDTSTAMP:20261123T100000Z\r\n"
        f"DTSTART:{start}\r\nDTEND:{start[:9]}{int(start[9:11]) + 1:02d}{start[11:]}\r\n"
        f"SUMMARY:{subject}\r\nORGANIZER;CN=Sam Recruiter:mailto:sam@acme.example\r\n"
        f"ATTENDEE;CN=Jane Doe;PARTSTAT=NEEDS-ACTION:mailto:{ME}\r\n"
        f"END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def plain_mail(n: int) -> bytes:
    return (
        f"From: friend{n}@example.net\r\nTo: {ME}\r\nSubject: Hello {n}\r\n"
        f"Message-ID: <plain{n}@example.net>\r\n\r\nJust a note, number {n}.\r\n"
    ).encode()


def stored(config: Config) -> dict[tuple[str, str], EventRecord]:
    with wiring.open_store(config) as store:
        return {(e.uid, e.recurrence_id): e for e in event_db.all_events(store.connection)}
