"""The titles corpus (tests/corpus/titles): its expectations, and each file's invitation as
a pass would store it, read with the pure parser."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from decliner.core.parse import ParsedInvite, parse_message
from decliner.core.plan.events import EventRecord, event_id, record_from, recurrence_key

CORPUS = Path(__file__).parents[1] / "corpus" / "titles"
ME = ("jane.doe@example.com", "jdoe@example.org")


def cases() -> list[dict[str, Any]]:
    """expected.toml's rows: file, uid, tool, role, company, process, url."""
    with (CORPUS / "expected.toml").open("rb") as handle:
        found: list[dict[str, Any]] = tomllib.load(handle)["message"]
    return found


def corpus_record(name: str) -> EventRecord:
    """The file's first event as a pass would store it, through the pure parser."""
    parsed = parse_message(
        (CORPUS / name).read_bytes(), me=ME, default_tz=ZoneInfo("Europe/Berlin")
    )
    assert isinstance(parsed, ParsedInvite), name
    event = parsed.events[0]
    return record_from(
        event_id=event_id(event.uid, recurrence_key(event.recurrence_id)),
        event=event,
        message=parsed.message,
        folder="INBOX",
        uid=1,
        ical=parsed.calendar_bytes,
        links=parsed.booking_links,
        body_text=parsed.body_text,
    )
