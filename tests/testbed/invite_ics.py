"""Minimal invitation calendars, an Outlook custom VTIMEZONE, and parsing them as the corpus
user (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from decliner.core.parse import (
    InviteEvent,
    Rejected,
    parse_calendar,
)

ME = ("jane.doe@example.com", "jdoe@example.org")


BERLIN = ZoneInfo("Europe/Berlin")


OUTLOOK_CUSTOM_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:{tzid}
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:{dst}
TZOFFSETTO:{std}
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:{std}
TZOFFSETTO:{dst}
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE"""


def ics(
    *event_lines: str,
    method: str | None = "REQUEST",
    before: str = "",
    after: str = "",
    attendee: str = "ATTENDEE;CN=Jane Doe;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:jane.doe@example.com",
) -> bytes:
    """A minimal invitation calendar with one VEVENT holding `event_lines`."""
    lines = ["BEGIN:VCALENDAR", "PRODID:-//test//EN", "VERSION:2.0"]
    if method:
        lines.append(f"METHOD:{method}")
    lines += before.splitlines()
    lines += [
        "BEGIN:VEVENT",
        "UID:u1@test",
        "DTSTAMP:20261101T120000Z",
        "ORGANIZER;CN=Sam Recruiter:mailto:sam@acme.example",
        attendee,
        "SUMMARY:Interview with Acme",
        *event_lines,
        "END:VEVENT",
        *after.splitlines(),
        "END:VCALENDAR",
    ]
    return ("\r\n".join(line for line in lines if line) + "\r\n").encode()


def parse(data: bytes) -> tuple[str, tuple[InviteEvent, ...]] | Rejected | None:
    """Parse as the corpus user, whose zone is Europe/Berlin."""
    return parse_calendar(data, me=ME, default_tz=BERLIN)


def one_event(data: bytes) -> InviteEvent:
    """The single event of a calendar that must parse."""
    result = parse(data)
    assert isinstance(result, tuple), result
    assert len(result[1]) == 1
    return result[1][0]


def utc(zone: str, *wall: int) -> datetime:
    """A wall-clock time (year, month, day, hour, minute) in `zone` as UTC, by zoneinfo."""
    year, month, day, hour, minute = wall
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def rejected(data: bytes) -> Rejected:
    """The rejection a calendar must produce."""
    result = parse(data)
    assert isinstance(result, Rejected), result
    return result
