"""CalDAV resources to edit, as a calendar server holds them: a one-off interview and a
weekly series in Europe/Berlin with the user among the attendees; and readers of an edit."""

from __future__ import annotations

from decliner.core.caledit.edit import Edit
from decliner.core.parse.contentlines import split_lines

BERLIN_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


ORGANIZER = 'ORGANIZER;CN="Raman, Priya":mailto:priya@corp.example'


CLIENT_SCHEDULED = 'ORGANIZER;CN="Raman, Priya";SCHEDULE-AGENT=CLIENT:mailto:priya@corp.example'


ATTENDEE = 'ATTENDEE;CN="Doe: Jane; QA";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:jane@example.com'


OTHER = "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:bob@corp.example"


DESCRIPTION = (
    "DESCRIPTION:Join us for the technical interview. We will discuss your backgr\r\n"
    " ound\\, a coding exercise and the team. Dial-in: +49 30 1234 5678\r\n"
    "\tPIN 4242 — bis bald!"
)


ALARM = "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Reminder\nTRIGGER:-PT15M\nEND:VALARM"


def event(*lines: str, uid: str = "iv-1") -> str:
    """One VEVENT with the usual header lines and `lines`."""
    return "\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240101T120000Z", *lines, "END:VEVENT"]
    )


def resource(*events: str, eol: str = "\r\n", timezone: bool = True) -> str:
    """A VCALENDAR holding `events` (and the Berlin VTIMEZONE), with `eol` line endings."""
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example//CalDAV//EN"]
    parts += [BERLIN_TZ] if timezone else []
    text = "\n".join([*parts, *events, "END:VCALENDAR"]) + "\n"
    return text.replace("\r\n", "\n").replace("\n", eol)


def single(*extra: str, attendee: str = ATTENDEE, organizer: str = ORGANIZER) -> str:
    """A one-off timed interview with a folded DESCRIPTION, X- props and a VALARM."""
    return resource(
        event(
            "DTSTART;TZID=Europe/Berlin:20240314T100000",
            "DTEND;TZID=Europe/Berlin:20240314T110000",
            "SUMMARY:Technical interview",
            DESCRIPTION,
            "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
            organizer,
            attendee,
            OTHER,
            *extra,
            ALARM,
        )
    )


def master(*extra: str, start: str = "DTSTART;TZID=Europe/Berlin:20240314T100000") -> str:
    """The VEVENT of a weekly interview series (ten instances) starting 14 March 2024."""
    end = start.replace("DTSTART", "DTEND").replace("T100000", "T110000")
    return event(start, end, "RRULE:FREQ=WEEKLY;COUNT=10", *extra, ORGANIZER, ATTENDEE, ALARM)


def series(*extra: str, start: str = "DTSTART;TZID=Europe/Berlin:20240314T100000") -> str:
    """A resource holding just the weekly series."""
    return resource(master(*extra, start=start))


def put(edit: Edit) -> str:
    """The text of a "put" edit, failing on any other action."""
    assert edit.action == "put", edit
    return edit.text


def changed(before: str, after: str) -> list[tuple[str, str]]:
    """The logical lines that differ, as (before, after) raw text, when none were added."""
    old, new = split_lines(before), split_lines(after)
    assert len(old) == len(new)
    return [(a.raw, b.raw) for a, b in zip(old, new, strict=True) if a.raw != b.raw]


def vevents(text: str) -> list[list[str]]:
    """Each VEVENT's unfolded lines, in order."""
    found: list[list[str]] = []
    for line in split_lines(text):
        if line.text == "BEGIN:VEVENT":
            found.append([])
        if found and (not found[-1] or found[-1][-1] != "END:VEVENT"):
            found[-1].append(line.text)
    return found
