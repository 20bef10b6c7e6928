"""Calendar bytes -> an invitation's METHOD and events, read safely or `Rejected`.

The size limits are checked before any parsing; Exchange's and Outlook's unquoted TZIDs
are repaired; what kind of calendar it is (SPEC 1) decides whether it is an invitation.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Timezone
from icalendar.parser.content_line import NEWLINE, UFOLD

from decliner.core.parse.model import (
    MAX_CALENDAR_BYTES,
    MIB,
    InviteEvent,
    InviteKind,
    Rejected,
    address_spellings,
    one_line,
)
from decliner.core.parse.timezones import Zones
from decliner.core.parse.vevent import EventReader, email_of, property_values

INVITE_METHODS = frozenset({"REQUEST", "CANCEL"})
STATIC_METHOD = "PUBLISH"
# A calendar nobody can answer is an interview only if it is small: a booking tool's
# confirmation holds one event; cinema listings, fixtures and programmes hold many.
MAX_STATIC_EVENTS = 3
MAX_COMPONENTS = 500  # BEGIN: lines (VEVENT, VTIMEZONE, VALARM, ...); a series with a few
# dozen exceptions stays far below, while parsing time stays bounded
_BEGIN = re.compile(rb"^[ \t]*BEGIN:", re.IGNORECASE | re.MULTILINE)
_FOLD = re.compile(rb"\r?\n[ \t]")
# Folding may split a UTF-8 sequence (RFC 5545 3.1), so lines are unfolded as bytes.
_UFOLD_BYTES = re.compile(UFOLD.pattern.encode("ascii"))
# Exchange writes TZID=tzone://Microsoft/Custom and Outlook TZID=(UTC-08:00) ... unquoted,
# though a parameter value holding ":" must be quoted (RFC 5545 3.2); icalendar then
# splits the line at the wrong colon. Date-time values hold no ":", so the last one splits.
_UNQUOTED_TZID = re.compile(
    r'^([A-Za-z0-9-]+(?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:]*))*;TZID=)'
    r'([^";:]*:[^;]*?)((?:;[^:]*)?:[^:]*)$',
    re.IGNORECASE,
)


def _me(me: Iterable[str]) -> frozenset[str]:
    return frozenset(spelling for address in me for spelling in address_spellings(address))


def _kind(method: str, vevents: Sequence[Component], mine: frozenset[str]) -> InviteKind | None:
    """SPEC 1: REQUEST/CANCEL, or no METHOD with an ORGANIZER and the user as ATTENDEE, can
    be answered; PUBLISH, or no METHOD and no ATTENDEE, is a calendar nobody can answer,
    and one of many events is a listing (films, fixtures, a programme), no invitation."""
    if method == STATIC_METHOD or (not method and not any("ATTENDEE" in e for e in vevents)):
        uids = {str(property_values(e, "UID")[:1]) for e in vevents}
        return "static" if len(uids) <= MAX_STATIC_EVENTS else None
    if method in INVITE_METHODS or (not method and any(_invites_me(e, mine) for e in vevents)):
        return "request"
    return None


def _invites_me_at_all(event: Component, me: frozenset[str]) -> bool:
    """Whether a VEVENT names the user as ATTENDEE."""
    return bool({email_of(a) for a in property_values(event, "ATTENDEE")} & me)


def _invites_me(event: Component, me: frozenset[str]) -> bool:
    """Whether a VEVENT has an ORGANIZER and names the user as ATTENDEE."""
    attendees = {email_of(a) for a in property_values(event, "ATTENDEE")}
    return "ORGANIZER" in event and bool(attendees & me)


def quote_tzids(text: str) -> str:
    """The unfolded calendar with unquoted TZID parameters holding ":" quoted."""
    return "\r\n".join(_UNQUOTED_TZID.sub(r'\1"\2"\3', line) for line in NEWLINE.split(text))


def over_limits(ical: bytes) -> Rejected | None:
    """A rejection if a calendar is too large to read safely (SPEC 10; the limits are in
    docs/design.md), checked before any parsing so junk costs no CPU."""
    if len(ical) > MAX_CALENDAR_BYTES:
        return Rejected(
            "too-large",
            f"calendar part of {len(ical) / MIB:.1f} MiB is over the"
            f" {MAX_CALENDAR_BYTES // MIB} MiB limit",
        )
    # Counted after unfolding (RFC 5545 3.1), so "B" CRLF " EGIN:" counts as the BEGIN it is.
    components = len(_BEGIN.findall(_FOLD.sub(b"", ical)))
    if components > MAX_COMPONENTS:
        return Rejected(
            "too-large",
            f"calendar has {components} components, over the limit of {MAX_COMPONENTS}",
        )
    return None


def read_calendar(ical: bytes) -> Calendar | Rejected:
    """The VCALENDAR in UTF-8 bytes, as icalendar reads it after our repairs, or a rejection.

    Use this, not `Calendar.from_ical`, to re-read `ParsedInvite.calendar_bytes`; what it
    repaired was reported when the calendar was first read (`read_calendar_noting`).
    """
    found = read_calendar_noting(ical)
    return found if isinstance(found, Rejected) else found[0]


def read_calendar_noting(ical: bytes) -> tuple[Calendar, tuple[str, ...]] | Rejected:
    """`read_calendar`, and one line for each repair and each warning icalendar gave, so
    the shell logs them with the folder and key instead of Python printing them bare."""
    if too_large := over_limits(ical):
        return too_large
    try:
        # icalendar would turn invalid UTF-8 into U+FFFD; RFC 5545 text is UTF-8.
        text = _UFOLD_BYTES.sub(b"", ical).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Rejected("encoding", f"calendar is not valid UTF-8: {exc}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = Calendar.from_ical(quote_tzids(text), multiple=True)
    except Exception as exc:  # noqa: BLE001 -- icalendar raises many types on junk
        return Rejected("malformed", f"unreadable calendar: {type(exc).__name__}: {exc}")
    calendars = [c for c in found if isinstance(c, Calendar) and c.name == "VCALENDAR"]
    if not calendars:
        return Rejected("malformed", "the calendar part holds no VCALENDAR")
    calendar = calendars[0]
    notes = [f"icalendar: {one_line(str(w.message))}" for w in caught]
    if len(found) > 1:
        notes.append(
            f"the part holds {len(found)} components at its top; the first VCALENDAR is read"
        )
    for name, problem in calendar.errors:
        if name is None or str(name).upper() == "METHOD":
            return Rejected("malformed", f"VCALENDAR: {problem}")
        notes.append(f"VCALENDAR {name} ignored: {problem}")
    return calendar, tuple(dict.fromkeys(notes))


def parse_calendar(
    ical: bytes, *, me: Iterable[str], default_tz: ZoneInfo
) -> tuple[str, tuple[InviteEvent, ...]] | Rejected | None:
    """An invitation's METHOD ("" if absent) and events; None when it is no invitation.

    Events are keyed by UID and RECURRENCE-ID; of duplicates the highest SEQUENCE wins.
    What icalendar warns of while reading joins each event's warnings, so the shell logs
    it with the folder and key instead of Python printing it without either.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = _parse_calendar(ical, me=me, default_tz=default_tz)
    if not isinstance(found, tuple) or not caught:
        return found
    said = tuple(dict.fromkeys(f"icalendar: {one_line(str(w.message))}" for w in caught))
    method, events = found
    return method, tuple(replace(e, warnings=(*e.warnings, *said)) for e in events)


def _parse_calendar(
    ical: bytes, *, me: Iterable[str], default_tz: ZoneInfo
) -> tuple[str, tuple[InviteEvent, ...]] | Rejected | None:
    read = read_calendar_noting(ical)
    if isinstance(read, Rejected):
        return read
    calendar, notes = read
    methods = property_values(calendar, "METHOD")
    method = one_line(str(methods[0])).upper() if methods else ""
    mine = _me(me)
    vevents = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    kind = _kind(method, vevents, mine)
    if kind is None:
        return None
    static = kind == "static"
    if not vevents:
        return None if static else Rejected("malformed", f"METHOD:{method} calendar has no VEVENT")
    vtimezones = [tz for tz in calendar.subcomponents if isinstance(tz, Timezone)]
    reader = EventReader(method, mine, Zones(vtimezones), default_tz)
    events: dict[tuple[str, datetime | date | None], InviteEvent] = {}
    for vevent in vevents:
        if static and "ATTENDEE" in vevent and not _invites_me_at_all(vevent, mine):
            continue  # a static event for other people (a list's webinar) is not ours
        event = reader.event(vevent)
        if isinstance(event, Rejected):
            return event
        if static:
            event = replace(event, kind="static")
        known = events.get(event.key)
        if known is None or event.sequence >= known.sequence:
            events[event.key] = event
    if static and not events:
        return None
    return method, tuple(replace(e, warnings=(*notes, *e.warnings)) for e in events.values())
