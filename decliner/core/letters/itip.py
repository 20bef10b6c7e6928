"""The iTIP REPLY that declines an invitation (RFC 5546 3.2.3), built from the request.

Properties the organizer's server matches on (UID, RECURRENCE-ID, SEQUENCE, the
times, ORGANIZER) are copied from the request's own VEVENT with their parameters,
never re-derived, so the reply names exactly the event that was sent.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Event, Timezone, vCalAddress

from decliner.core.letters.headers import RenderError
from decliner.core.parse.contentlines import Line, fold, split_lines, vevent_spans
from decliner.core.parse.model import Address, Rejected, one_line
from decliner.core.parse.timezones import Zones
from decliner.core.parse.vcalendar import quote_tzids, read_calendar
from decliner.core.parse.vevent import email_of
from decliner.core.plan.events import EventRecord

PRODID = "-//decliner//decliner iTIP REPLY//EN"
# Copied verbatim when the request has them, in this order.
_COPIED = ("UID", "RECURRENCE-ID", "SEQUENCE", "DTSTART", "DTEND", "DURATION", "ORGANIZER")
_TIMED = ("RECURRENCE-ID", "DTSTART", "DTEND")
_ECHOED = (*_TIMED, "DURATION")
# ATTENDEE parameters worth echoing; RSVP, PARTSTAT and CN are set afresh.
_KEPT_PARAMS = ("CUTYPE", "ROLE", "EMAIL")


def _single(prop: Any) -> Any:
    return prop[0] if isinstance(prop, list) else prop


def _first(component: Component, name: str) -> Any:
    """A property's first value ("" when absent): the one rule for repeated properties."""
    return _single(component.get(name, ""))


def _recurrence_key(prop: Any, zones: Zones, default_tz: ZoneInfo) -> str:
    """A RECURRENCE-ID as `events.recurrence_key` stores it; '' when it cannot be resolved."""
    value = getattr(_single(prop), "dt", None)
    if not isinstance(value, datetime):
        return value.isoformat() if isinstance(value, date) else ""
    tzid = str(_single(prop).params.get("TZID", "")).strip()
    wall = value.replace(tzinfo=None)
    if tzid and tzid.upper() not in {"UTC", "Z"}:
        # icalendar's attached tzinfo may come from another calendar's same-named zone.
        zone = zones.get(tzid)
        if zone is None:
            return ""
        local = wall.replace(tzinfo=zone)
    elif tzid or value.tzinfo is not None:
        local = wall.replace(tzinfo=UTC)
    else:
        local = wall.replace(tzinfo=default_tz)
    return local.astimezone(UTC).isoformat()


def _sequence(component: Component) -> int:
    try:
        return int(_first(component, "SEQUENCE") or 0)
    except (TypeError, ValueError):
        return 0


def find_vevent(calendar: Calendar, event: EventRecord, default_tz: ZoneInfo) -> Component:
    """The request's VEVENT for this event (UID + RECURRENCE-ID), or RenderError."""
    vtimezones = [c for c in calendar.subcomponents if isinstance(c, Timezone)]
    zones = Zones(vtimezones)
    same = [
        c
        for c in calendar.subcomponents
        if c.name == "VEVENT" and str(_first(c, "UID")).strip() == event.uid
    ]
    if event.recurrence_id:
        pool = [
            c
            for c in same
            if "RECURRENCE-ID" in c
            and _recurrence_key(c["RECURRENCE-ID"], zones, default_tz) == event.recurrence_id
        ]
    else:
        pool = [c for c in same if "RECURRENCE-ID" not in c]
    if not pool:
        instance = f" RECURRENCE-ID {event.recurrence_id}" if event.recurrence_id else ""
        raise RenderError(f"the invite's calendar has no VEVENT for UID {event.uid!r}{instance}")
    exact = [c for c in pool if _sequence(c) == event.sequence]
    return (exact or sorted(pool, key=_sequence))[-1]


def _attendee(vevent: Component, event: EventRecord, me: Address) -> vCalAddress:
    """The user's ATTENDEE as the invite wrote it, declined; `me` when the invite had none."""
    wanted = event.attendee.email if event.attendee else me.email
    raw = [_single(a) for a in _list(vevent.get("ATTENDEE"))]
    # As the invite wrote it: `mailto:`, or Apple's `urn:x-uid:` with an EMAIL parameter.
    mine = next((a for a in raw if email_of(a) == wanted), None)
    value = one_line(str(mine)) if mine is not None else ""
    attendee = vCalAddress(value if value and email_of(mine) == wanted else f"mailto:{wanted}")
    for name in _KEPT_PARAMS:
        if mine is not None and name in mine.params:
            attendee.params[name] = one_line(str(mine.params[name]))
    attendee.params["PARTSTAT"] = "DECLINED"
    if me.name:
        attendee.params["CN"] = one_line(me.name).replace('"', "'")  # no DQUOTE in a param
    return attendee


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _tzids(vevent: Component) -> set[str]:
    found = set()
    for name in _TIMED:
        if name in vevent:
            tzid = str(_single(vevent[name]).params.get("TZID", "")).strip()
            if tzid:
                found.add(tzid)
    return found


def decline_reply(
    *, event: EventRecord, me: Address, reason: str, now: datetime, zone: ZoneInfo
) -> bytes:
    """The METHOD:REPLY calendar (CRLF, UTF-8) declining `event` for the user.

    `zone` is the account zone the invite's floating times were read in; RenderError
    when the stored request cannot be read or holds no matching VEVENT.
    """
    request = read_calendar(event.ical.encode("utf-8"))
    if isinstance(request, Rejected):
        raise RenderError(f"the invite's calendar cannot be read: {request.detail}")
    vevent = find_vevent(request, event, zone)
    reply = Calendar()
    reply.add("PRODID", PRODID)
    reply.add("VERSION", "2.0")
    reply.add("METHOD", "REPLY")
    used = _tzids(vevent)
    for component in request.subcomponents:
        if isinstance(component, Timezone) and str(component.get("TZID", "")).strip() in used:
            reply.add_component(component)
    declined = Event()
    for name in _COPIED:
        if name in vevent:
            declined[name] = _single(vevent[name])
    written = _as_written(event.ical, request, vevent)
    # The summary as one clean line: a control byte must not reach the 7bit calendar part.
    original = _single(vevent["SUMMARY"]) if "SUMMARY" in vevent else None
    if original is not None and (summary := one_line(str(original))):
        declined.add("SUMMARY", summary, parameters=dict(original.params))
    declined.add("DTSTAMP", now.astimezone(UTC))
    declined.add("ATTENDEE", _attendee(vevent, event, me))
    comment = " ".join(one_line(reason).split())
    if comment:
        declined.add("COMMENT", comment)
    reply.add_component(declined)
    return _echoed(reply.to_ical().decode("utf-8"), written).encode("utf-8")


def _as_written(text: str, request: Calendar, vevent: Component) -> dict[str, Line]:
    """The request VEVENT's time lines as the request wrote them (SPEC 7: DTSTART unchanged;
    icalendar would drop the `Z` of `TZID=Europe/London:20140130T140000Z`); {} when the
    text's structure cannot be followed, and icalendar's rendering then stands."""
    try:
        lines = split_lines(text)
        spans = vevent_spans(lines)
    except ValueError:
        return {}
    vevents = [c for c in request.subcomponents if c.name == "VEVENT"]
    if len(spans) != len(vevents):
        return {}
    index = next(i for i, c in enumerate(vevents) if c is vevent)
    written: dict[str, Line] = {}
    for at in spans[index][2]:
        line = lines[at]
        if line.name in _ECHOED and line.name not in written:
            written[line.name] = Line(line.raw, quote_tzids(line.text))
    return written


def _echoed(reply: str, written: dict[str, Line]) -> str:
    """The reply with its VEVENT's time lines replaced by the request's own."""
    if not written:
        return reply
    lines = split_lines(reply)
    _begin, _end, props = vevent_spans(lines)[0]
    out = [line.raw for line in lines]
    for at in props:
        original = written.get(lines[at].name)
        if original is not None:
            out[at] = fold(original.text, "\r\n")
    return "".join(out)
