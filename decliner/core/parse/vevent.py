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
    Address,
    InviteEvent,
    Rejected,
    clipped_text,
    is_valid_email,
    normalise_email,
    one_line,
)
from decliner.core.parse.timezones import Zones

# A broken value of one of these would make the event silently wrong; others
# (DTSTAMP, X- properties) do not matter to us.
_USED = frozenset(
    {"UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE", "RRULE"}
    | {"ORGANIZER", "ATTENDEE", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS"}
)

Instant = tuple[datetime, date | None, str]
"""A resolved DTSTART-like value: aware in its own zone, the date if all-day, the TZID."""
Times = tuple[Instant, Instant, datetime | date | None]


def property_values(component: Component, name: str) -> list[Any]:
    """A property's values as a list: icalendar gives one value, or a list when repeated."""
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
            rrules = property_values(event, "RRULE")
            rrule = _rrule_text(rrules[0]) if rrules else ""
        except (TypeError, ValueError, AttributeError) as exc:
            return Rejected("malformed", f"VEVENT {uid!r}: SEQUENCE or RRULE: {exc}")
        organizer = _address(event["ORGANIZER"]) if "ORGANIZER" in event else None
        attendees = [a for a in map(_address, property_values(event, "ATTENDEE")) if a is not None]
        me = self.me
        raw_mine = [a for a in property_values(event, "ATTENDEE") if normalise_email(str(a)) in me]
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
            description=clipped_text(str(event.get("DESCRIPTION", ""))),
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
