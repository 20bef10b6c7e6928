"""One VEVENT -> `InviteEvent`: instants resolved to aware UTC, people, links, or `Rejected`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Component
from icalendar.prop import vBroken, vRecur, vText

from decliner.core.parse import booking
from decliner.core.parse.model import (
    NO_START,
    Address,
    InviteEvent,
    Rejected,
    clipped_text,
    is_valid_email,
    normalise_email,
    one_line,
)
from decliner.core.parse.timezones import Zones

# What an invitation cannot do without (docs/design.md, "What each METHOD requires"):
# the UID always, RECURRENCE-ID when given (it names the instance), DTSTART for any
# METHOD but CANCEL. A broken or repeated value of any other property is repaired or
# ignored with one warning.
_REQUIRED = frozenset({"UID", "RECURRENCE-ID", "DTSTART"})
MAX_SEQUENCE = 2**63 - 1  # what SQLite's INTEGER holds; Google has sent SEQUENCE > 2**31

Instant = tuple[datetime, date | None, str]
"""A resolved DTSTART-like value: aware in its own zone, the date if all-day, the TZID."""
Times = tuple[Instant, Instant, datetime | date | None]


def property_values(component: Component, name: str) -> list[Any]:
    """A property's values as a list: icalendar gives one value, or a list when repeated."""
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def email_of(value: Any) -> str:
    """A CAL-ADDRESS's email: its `mailto:` value, else (Apple's `urn:x-uid:`) its EMAIL
    parameter; normalised, "" when it holds none."""
    text = str(value)
    if not text.lower().startswith("mailto:"):
        param = str(getattr(value, "params", {}).get("EMAIL", ""))
        if param:
            return normalise_email(param)
    return normalise_email(text)


def _address(value: Any) -> Address | None:
    address = Address(email_of(value), str(getattr(value, "params", {}).get("CN", "")))
    return address if is_valid_email(address.email) else None


def _unescaped(value: Any) -> str:
    """A broken value's text as the line wrote it (icalendar escapes it when it breaks)."""
    raw = value.to_ical() if hasattr(value, "to_ical") else value
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text.replace("\\;", ";").replace("\\,", ",")


def _properties(event: Component) -> Iterator[tuple[str, str]]:
    """A VEVENT's DESCRIPTION, URL and X- properties as (name, text) pairs."""
    for name in event:
        key = str(name).upper()
        if key in {"DESCRIPTION", "URL"} or key.startswith("X-"):
            for value in property_values(event, key):
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


@dataclass(frozen=True, slots=True)
class EventReader:
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

    def end(self, first: _First, start: Instant) -> Instant | Rejected:
        """DTEND, else DTSTART + DURATION, else DTSTART (+1 day when all-day); a DTEND or
        DURATION that cannot be used is ignored with a warning."""
        begin, start_day, tzid = start
        event, warnings = first.event, first.warnings
        if "DTEND" in event and "DTEND" not in first.ignored:
            end = self.instant(first.value("DTEND"), "DTEND")
            if isinstance(end, Rejected):
                warnings.append(f"DTEND ignored: {end.detail}")
            elif (end[1] is None) == (start_day is None):
                return end
            else:
                warnings.append("DTEND ignored: DTSTART and DTEND mix a date and a date-time")
        duration = None if "DURATION" in first.ignored else first.value("DURATION")
        delta = getattr(duration, "dt", None)
        if duration is not None and not isinstance(delta, timedelta):
            warnings.append("DURATION ignored: it is not a duration")
            delta = None
        if start_day is not None:
            end_day = start_day + timedelta(days=delta.days if delta is not None else 1)
            return _local_midnight(end_day, self.default_tz), end_day, ""
        if delta is None:
            return begin, None, tzid
        # Whole days of a DURATION are nominal (wall clock), the rest exact (RFC 5545 3.3.6).
        local = (begin + timedelta(days=delta.days)).astimezone(UTC)
        return (local + timedelta(seconds=delta.seconds)).astimezone(begin.tzinfo), None, tzid

    def times(self, first: _First, uid: str) -> Times | Rejected:
        """A VEVENT's start, end and RECURRENCE-ID (UTC datetime, or date if all-day)."""
        event = first.event
        if "DTSTART" not in event:
            return Rejected("no-dtstart", f"VEVENT {uid!r} has no DTSTART")
        start = self.instant(first.value("DTSTART"), "DTSTART")
        if isinstance(start, Rejected):
            return start
        end = self.end(first, start)
        if isinstance(end, Rejected):
            return end
        if "RECURRENCE-ID" not in event:
            return start, end, None
        rid = self.instant(first.value("RECURRENCE-ID"), "RECURRENCE-ID")
        if isinstance(rid, Rejected):
            return rid
        return start, end, rid[1] if rid[1] is not None else rid[0].astimezone(UTC)

    def event(self, event: Component) -> InviteEvent | Rejected:
        """One VEVENT as plain data, or why it cannot be read safely: only what the METHOD
        requires rejects it; the rest is repaired or ignored, each with a warning."""
        warnings: list[str] = []
        first = _First(event, warnings)
        uid = one_line(str(first.value("UID") or "")).strip()
        broken = {str(name).upper(): text for name, text in event.errors if name is not None}
        cancel = self.method == "CANCEL"
        required = _REQUIRED - {"DTSTART"} if cancel else _REQUIRED
        for name in sorted(set(broken) & required):
            return Rejected("malformed", f"VEVENT {uid!r}: {name}: {broken[name]}")
        if not uid or any(ord(char) < 32 or char == "\x7f" for char in uid):
            return Rejected("malformed", f"a VEVENT has no usable UID: {uid!r}")
        if any(name is None for name, _ in event.errors):
            warnings.append("a line that is no property was ignored")
        times = self._times_or_unknown(first, uid, cancel, broken, warnings)
        if isinstance(times, Rejected):
            return times
        (start, start_day, tzid), (end, end_day, _), recurrence_id = times
        organizer = _address(first.value("ORGANIZER")) if "ORGANIZER" in event else None
        raw_attendees = property_values(event, "ATTENDEE")
        attendees = [a for a in map(_address, raw_attendees) if a is not None]
        me = self.me
        raw_mine = [a for a in raw_attendees if email_of(a) in me]
        partstat = str(raw_mine[0].params.get("PARTSTAT", "")) if raw_mine else ""
        return InviteEvent(
            uid=uid,
            recurrence_id=recurrence_id,
            sequence=_sequence(first, broken, warnings),
            method=self.method,
            summary=one_line(first.text("SUMMARY", broken)),
            start=start.astimezone(UTC),
            end=end.astimezone(UTC),
            all_day=start_day is not None,
            start_date=start_day,
            end_date=end_day,
            tzid=one_line(tzid),
            location=one_line(first.text("LOCATION", broken)),
            description=clipped_text(first.text("DESCRIPTION", broken)),
            organizer=organizer,
            attendee=next((a for a in attendees if a.email in me), None),
            other_attendees=tuple(
                a
                for a in attendees
                if a.email not in me and (organizer is None or a.email != organizer.email)
            ),
            rrule=one_line(_rrule(first, broken, warnings)),
            status=one_line(first.text("STATUS", broken)).upper(),
            partstat=one_line(partstat).upper(),
            booking_links=booking.unique(booking.in_calendar(_properties(event))),
            warnings=tuple(warnings),
        )

    def _times_or_unknown(
        self,
        first: _First,
        uid: str,
        cancel: bool,  # noqa: FBT001 -- the METHOD, read once by the caller
        broken: dict[str, str],
        warnings: list[str],
    ) -> Times | Rejected:
        """The event's times; a CANCEL without a readable DTSTART names its event by UID
        and RECURRENCE-ID alone (RFC 5546 3.2.5), so its times are unknown (`NO_START`)."""
        event = first.event
        if cancel and ("DTSTART" not in event or "DTSTART" in broken):
            unknown: Instant = (NO_START, None, "")
            if "RECURRENCE-ID" not in event:
                return unknown, unknown, None
            rid = self.instant(first.value("RECURRENCE-ID"), "RECURRENCE-ID")
            if isinstance(rid, Rejected):
                return rid
            return unknown, unknown, rid[1] if rid[1] is not None else rid[0].astimezone(UTC)
        for name in ("DTEND", "DURATION"):
            if name in broken:
                warnings.append(f"{name} ignored: {broken[name]}")
                first.ignored.add(name)
        times = self.times(first, uid)
        if isinstance(times, Rejected) or times[1][0].astimezone(UTC) >= times[0][0].astimezone(
            UTC
        ):
            return times
        warnings.append("DTEND before DTSTART ignored: the event is taken to end as it starts")
        return times[0], times[0], times[2]


class _First:
    """The first value of a property that may hold one, each repeat warned once."""

    def __init__(self, event: Component, warnings: list[str]) -> None:
        self.event = event
        self.warnings = warnings
        self._warned: set[str] = set()
        self.ignored: set[str] = set()  # broken properties read as absent

    def value(self, name: str) -> Any:
        values = property_values(self.event, name)
        if len(values) > 1 and name not in self._warned:
            self._warned.add(name)
            self.warnings.append(f"{name} appears {len(values)} times; the first is used")
        return values[0] if values else None

    def text(self, name: str, broken: dict[str, str]) -> str:
        """A text property's first value; a broken one is read as written, warned."""
        value = self.value(name)
        if value is None:
            return ""
        if name in broken:
            self.warnings.append(f"{name} read as written: {broken[name]}")
            return _unescaped(value)
        return str(value)


def _sequence(first: _First, broken: dict[str, str], warnings: list[str]) -> int:
    """SEQUENCE, also beyond RFC 5545's 32 bits (the number is what counts); 0 if none."""
    value = first.value("SEQUENCE")
    if value is None:
        return 0
    try:
        number = int(_unescaped(value).strip() if "SEQUENCE" in broken else value)
    except (TypeError, ValueError):
        warnings.append(f"SEQUENCE ignored: {broken.get('SEQUENCE') or value!r} is no number")
        return 0
    if "SEQUENCE" in broken:
        warnings.append(f"SEQUENCE {number} read though {broken['SEQUENCE']}")
    return max(0, min(number, MAX_SEQUENCE))


def _rrule(first: _First, broken: dict[str, str], warnings: list[str]) -> str:
    """RRULE as written; spaces in a list (Microsoft CDO: `BYDAY=MO, TU`) are removed, and
    a rule still unreadable is ignored (decliner only shows it), each with a warning."""
    value = first.value("RRULE")
    if value is None:
        return ""
    if "RRULE" not in broken:
        try:
            return _rrule_text(value)
        except (TypeError, ValueError, AttributeError) as exc:
            warnings.append(f"RRULE ignored: {exc}")
            return ""
    written = _unescaped(value)
    try:
        repaired = vRecur.from_ical("".join(written.split()))
    except (TypeError, ValueError) as exc:
        warnings.append(f"RRULE ignored: {broken['RRULE']} ({exc})")
        return ""
    warnings.append(f"RRULE repaired: {written!r} read without its spaces")
    return _rrule_text(repaired)
