"""Parse interview invitations from message bytes into plain `ParsedInvite` data.

Pure: bytes and the user's addresses in, data out; nothing here raises on a bad
message. Every instant is resolved to aware UTC or the message is `Rejected`.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from email import policy
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Timezone
from icalendar.parser.content_line import NEWLINE, UFOLD
from icalendar.prop import vBroken, vRecur, vText

from decliner.core.parse import booking
from decliner.core.parse.interview import NOT_AN_INTERVIEW, looks_like_interview
from decliner.core.parse.mime import find_calendar_parts, parse_headers, text_bodies
from decliner.core.parse.model import (
    MAX_CALENDAR_BYTES,
    MAX_MESSAGE_LINES,
    MIB,
    Address,
    InviteEvent,
    InviteMessage,
    Kind,
    ParsedInvite,
    Rejected,
    is_valid_email,
    normalise_email,
    one_line,
)
from decliner.core.parse.timezones import Zones

INVITE_METHODS = frozenset({"REQUEST", "CANCEL"})
STATIC_METHOD = "PUBLISH"
_DESCRIPTION_LIMIT = 2000
MAX_COMPONENTS = 500  # BEGIN: lines (VEVENT, VTIMEZONE, VALARM, ...); a series with a few
# dozen exceptions stays far below, while parsing time stays bounded
_BEGIN = re.compile(rb"^[ \t]*BEGIN:", re.IGNORECASE | re.MULTILINE)
_FOLD = re.compile(rb"\r?\n[ \t]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A broken value of one of these would make the event silently wrong; others
# (DTSTAMP, X- properties) do not matter to us.
_USED = frozenset(
    {"UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE", "RRULE"}
    | {"ORGANIZER", "ATTENDEE", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS"}
)
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

Instant = tuple[datetime, date | None, str]
"""A resolved DTSTART-like value: aware in its own zone, the date if all-day, the TZID."""


# Applicant-tracking and interview-scheduling services: mail from them is about hiring.
def _me(me: Iterable[str]) -> frozenset[str]:
    return frozenset(normalise_email(address) for address in me)


def _values(component: Component, name: str) -> list[Any]:
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _address(value: Any) -> Address | None:
    address = Address(str(value), str(getattr(value, "params", {}).get("CN", "")))
    return address if is_valid_email(address.email) else None


def _properties(event: Component) -> Iterator[tuple[str, str]]:
    """A VEVENT's DESCRIPTION, URL and X- properties as (name, text) pairs."""
    for name in event:
        key = str(name).upper()
        if key in {"DESCRIPTION", "URL"} or key.startswith("X-"):
            for value in _values(event, key):
                yield key, str(value)


def _rrule_text(recur: vRecur) -> str:
    """The RRULE as written: `vRecur.to_ical` would reorder its parts canonically."""
    parts = []
    for key, values in recur.items():
        kind = recur.types.get(key, vText)
        listed = values if isinstance(values, (list, tuple)) else [values]
        parts.append(f"{key}=" + ",".join(kind(v).to_ical().decode("utf-8") for v in listed))
    return ";".join(parts)


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


Times = tuple[Instant, Instant, datetime | date | None]


@dataclass(frozen=True, slots=True)
class _Reader:
    """What reading one calendar's VEVENTs needs: its METHOD, the user, its zones."""

    method: str
    me: frozenset[str]
    zones: Zones
    default_tz: ZoneInfo

    def instant(self, prop: Any, name: str) -> Instant | Rejected:
        """A DTSTART/DTEND/RECURRENCE-ID value made aware, with its date if all-day."""
        if isinstance(prop, (list, vBroken)) or not hasattr(prop, "dt"):
            return Rejected("malformed", f"{name} is not one date or date-time")
        value = prop.dt
        if not isinstance(value, datetime):
            if isinstance(value, date):
                return _local_midnight(value, self.default_tz), value, ""
            return Rejected("malformed", f"{name} is not a date or date-time: {value!r}")
        tzid = str(prop.params.get("TZID", "")).strip()
        wall = value.replace(tzinfo=None)
        if tzid and tzid.upper() not in {"UTC", "Z"}:
            zone = self.zones.get(tzid)
            if zone is None:
                return Rejected("timezone", f"{name} has unknown TZID {tzid!r} and no VTIMEZONE")
            local = wall.replace(tzinfo=zone)
        elif tzid or value.tzinfo is not None:
            local = wall.replace(tzinfo=UTC)  # icalendar attaches a zone itself only for "Z"
        else:
            local = wall.replace(tzinfo=self.default_tz)  # floating: the user's wall clock
        try:
            local.astimezone(UTC)
        # dateutil raises IndexError and KeyError on a VTIMEZONE's broken RRULE (BYDAY=21SU).
        except (TypeError, ValueError, OverflowError, IndexError, KeyError) as exc:
            return Rejected("timezone", f"{name} cannot be resolved in {tzid!r}: {exc}")
        return local, None, tzid

    def end(self, event: Component, start: Instant) -> Instant | Rejected:
        """DTEND, else DTSTART + DURATION, else DTSTART (+1 day when all-day)."""
        begin, start_day, tzid = start
        if "DTEND" in event:
            end = self.instant(event["DTEND"], "DTEND")
            if isinstance(end, Rejected) or (end[1] is None) == (start_day is None):
                return end
            return Rejected("malformed", "DTSTART and DTEND mix a date and a date-time")
        duration = event.get("DURATION")
        delta = getattr(duration, "dt", None)
        if duration is not None and not isinstance(delta, timedelta):
            return Rejected("malformed", "DURATION is not a duration")
        if start_day is not None:
            end_day = start_day + timedelta(days=delta.days if delta is not None else 1)
            return _local_midnight(end_day, self.default_tz), end_day, ""
        if delta is None:
            return begin, None, tzid
        # Whole days of a DURATION are nominal (wall clock), the rest exact (RFC 5545 3.3.6).
        local = (begin + timedelta(days=delta.days)).astimezone(UTC)
        return (local + timedelta(seconds=delta.seconds)).astimezone(begin.tzinfo), None, tzid

    def times(self, event: Component, uid: str) -> Times | Rejected:
        """A VEVENT's start, end and RECURRENCE-ID (UTC datetime, or date if all-day)."""
        if "DTSTART" not in event:
            return Rejected("no-dtstart", f"VEVENT {uid!r} has no DTSTART")
        start = self.instant(event["DTSTART"], "DTSTART")
        if isinstance(start, Rejected):
            return start
        end = self.end(event, start)
        if isinstance(end, Rejected):
            return end
        if "RECURRENCE-ID" not in event:
            return start, end, None
        rid = self.instant(event["RECURRENCE-ID"], "RECURRENCE-ID")
        if isinstance(rid, Rejected):
            return rid
        return start, end, rid[1] if rid[1] is not None else rid[0].astimezone(UTC)

    def event(self, event: Component) -> InviteEvent | Rejected:
        """One VEVENT as plain data, or why it cannot be read safely."""
        uid = str(event.get("UID", "")).strip()
        broken = [(name, text) for name, text in event.errors if name is None or name in _USED]
        if broken:
            name, text = broken[0]
            return Rejected("malformed", f"VEVENT {uid!r}: {name or 'a line'}: {text}")
        if not uid or any(ord(char) < 32 or char == "\x7f" for char in uid):
            return Rejected("malformed", f"a VEVENT has no usable UID: {uid!r}")
        times = self.times(event, uid)
        if isinstance(times, Rejected):
            return times
        (start, start_day, tzid), (end, end_day, _), recurrence_id = times
        if end.astimezone(UTC) < start.astimezone(UTC):
            return Rejected("malformed", f"VEVENT {uid!r} ends before it starts")
        try:
            sequence = int(event.get("SEQUENCE", 0))
            rrules = _values(event, "RRULE")
            rrule = _rrule_text(rrules[0]) if rrules else ""
        except (TypeError, ValueError, AttributeError) as exc:
            return Rejected("malformed", f"VEVENT {uid!r}: SEQUENCE or RRULE: {exc}")
        organizer = _address(event["ORGANIZER"]) if "ORGANIZER" in event else None
        attendees = [a for a in map(_address, _values(event, "ATTENDEE")) if a is not None]
        me = self.me
        raw_mine = [a for a in _values(event, "ATTENDEE") if normalise_email(str(a)) in me]
        partstat = str(raw_mine[0].params.get("PARTSTAT", "")) if raw_mine else ""
        return InviteEvent(
            uid=uid,
            recurrence_id=recurrence_id,
            sequence=sequence,
            method=self.method,
            summary=one_line(str(event.get("SUMMARY", ""))),
            start=start.astimezone(UTC),
            end=end.astimezone(UTC),
            all_day=start_day is not None,
            start_date=start_day,
            end_date=end_day,
            tzid=one_line(tzid),
            location=one_line(str(event.get("LOCATION", ""))),
            description=_TEXT_CONTROL.sub("", str(event.get("DESCRIPTION", "")))[
                :_DESCRIPTION_LIMIT
            ],
            organizer=organizer,
            attendee=next((a for a in attendees if a.email in me), None),
            other_attendees=tuple(
                a
                for a in attendees
                if a.email not in me and (organizer is None or a.email != organizer.email)
            ),
            rrule=one_line(rrule),
            status=one_line(str(event.get("STATUS", ""))).upper(),
            partstat=one_line(partstat).upper(),
            booking_links=booking.unique(booking.in_calendar(_properties(event))),
        )


def _kind(method: str, vevents: Sequence[Component], mine: frozenset[str]) -> Kind | None:
    """SPEC 1: REQUEST/CANCEL, or no METHOD with an ORGANIZER and the user as ATTENDEE, can
    be answered; PUBLISH, or no METHOD and no ATTENDEE, is a calendar nobody can answer."""
    if method == STATIC_METHOD or (not method and not any("ATTENDEE" in e for e in vevents)):
        return "static"
    if method in INVITE_METHODS or (not method and any(_invites_me(e, mine) for e in vevents)):
        return "request"
    return None


def _invites_me_at_all(event: Component, me: frozenset[str]) -> bool:
    """Whether a VEVENT names the user as ATTENDEE."""
    return bool({normalise_email(str(a)) for a in _values(event, "ATTENDEE")} & me)


def _invites_me(event: Component, me: frozenset[str]) -> bool:
    """Whether a VEVENT has an ORGANIZER and names the user as ATTENDEE."""
    attendees = {normalise_email(str(a)) for a in _values(event, "ATTENDEE")}
    return "ORGANIZER" in event and bool(attendees & me)


def _quote_tzids(text: str) -> str:
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

    Use this, not `Calendar.from_ical`, to re-read `ParsedInvite.calendar_bytes`.
    """
    if too_large := over_limits(ical):
        return too_large
    try:
        # icalendar would turn invalid UTF-8 into U+FFFD; RFC 5545 text is UTF-8.
        text = _UFOLD_BYTES.sub(b"", ical).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Rejected("encoding", f"calendar is not valid UTF-8: {exc}")
    try:
        calendar = Calendar.from_ical(_quote_tzids(text))
    except Exception as exc:  # noqa: BLE001 -- icalendar raises many types on junk
        return Rejected("malformed", f"unreadable calendar: {type(exc).__name__}: {exc}")
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        return Rejected("malformed", "the calendar part holds no VCALENDAR")
    if calendar.errors:
        return Rejected("malformed", f"VCALENDAR: {calendar.errors[0][1]}")
    return calendar


def parse_calendar(
    ical: bytes, *, me: Iterable[str], default_tz: ZoneInfo
) -> tuple[str, tuple[InviteEvent, ...]] | Rejected | None:
    """An invitation's METHOD ("" if absent) and events; None when it is no invitation.

    Events are keyed by UID and RECURRENCE-ID; of duplicates the highest SEQUENCE wins.
    """
    calendar = read_calendar(ical)
    if isinstance(calendar, Rejected):
        return calendar
    method = one_line(str(calendar.get("METHOD", ""))).upper()
    mine = _me(me)
    vevents = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    kind = _kind(method, vevents, mine)
    if kind is None:
        return None
    static = kind == "static"
    if not vevents:
        return None if static else Rejected("malformed", f"METHOD:{method} calendar has no VEVENT")
    vtimezones = [tz for tz in calendar.subcomponents if isinstance(tz, Timezone)]
    reader = _Reader(method, mine, Zones(vtimezones), default_tz)
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
    return method, tuple(events.values())


def _interviews(events: tuple[InviteEvent, ...], message: InviteMessage) -> tuple[InviteEvent, ...]:
    """A static calendar's events that look like an interview, in a message not sent to a
    list (a webinar or a careers newsletter is no invitation); every event of a request."""
    senders = [a.email for a in (message.from_, message.reply_to) if a is not None]
    return tuple(
        e
        for e in events
        if e.kind == "request"
        or (
            not message.bulk
            and not NOT_AN_INTERVIEW.search(e.summary)
            and looks_like_interview(
                e.summary, e.description, [*senders, *([e.organizer.email] if e.organizer else [])]
            )
        )
    )


def parse_parts(
    headers: bytes | Message,
    calendar_parts: Sequence[bytes],
    *,
    me: Iterable[str],
    default_tz: ZoneInfo,
    bodies: Sequence[tuple[str, str]] = (),
) -> ParsedInvite | Rejected | None:
    """An invitation from header bytes, decoded calendar parts fetched separately, and the
    message's ("plain" | "html", text) bodies (for booking links).

    The first part that is an invitation wins; otherwise the first rejection, else None.
    """
    me = tuple(me)
    rejected: Rejected | None = None
    for part in calendar_parts:
        result = parse_calendar(part, me=me, default_tz=default_tz)
        if isinstance(result, tuple):
            method, events = result
            message = parse_headers(headers)
            events = _interviews(events, message)
            if not events:
                continue
            links = [
                link
                for kind, text in bodies
                for link in (booking.in_html(text) if kind == "html" else booking.in_text(text))
            ]
            plain = next((text for kind, text in bodies if kind == "plain"), "")
            return ParsedInvite(
                message,
                method,
                events,
                part,
                booking_links=booking.unique(links),
                body_text=_TEXT_CONTROL.sub("", plain)[:_DESCRIPTION_LIMIT],
            )
        rejected = rejected or result
    return rejected


def parse_message(
    raw: bytes, *, me: Iterable[str], default_tz: ZoneInfo
) -> ParsedInvite | Rejected | None:
    """The invitation in a whole RFC 5322 message, a rejection, or None if it is no invite."""
    if (lines := raw.count(b"\n")) > MAX_MESSAGE_LINES:
        return Rejected(
            "too-large", f"message of {lines:,} lines is over the limit of {MAX_MESSAGE_LINES:,}"
        )
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
        parts = find_calendar_parts(msg)
    except Exception as exc:  # noqa: BLE001 -- the email package may raise on junk
        return Rejected("malformed", f"unreadable MIME structure: {type(exc).__name__}: {exc}")
    if not parts:
        return None
    return parse_parts(msg, parts, me=me, default_tz=default_tz, bodies=text_bodies(msg))
