"""Edit the user's own copy of an interview in one CalDAV resource: decline it, or drop it.

Edits are made on content lines: every line not edited is written back byte for byte,
so the server and other clients see only the change we mean. icalendar only reads
values (instants, VTIMEZONEs, recurrence); its to_ical() would reorder and re-escape.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Component, Timezone

from decliner.core.parse.contentlines import (
    Line,
    Property,
    fold,
    line_ending,
    parse,
    split_lines,
    unquote,
    vevent_spans,
)
from decliner.core.parse.model import Rejected, address_spellings, normalise_email
from decliner.core.parse.timezones import Zones
from decliner.core.parse.vcalendar import read_calendar

__all__ = ["Edit", "decline", "remove"]

Instance = datetime | date
"""An instance as compared here: an aware UTC datetime, or a date for all-day ones."""

_RECURRENCE = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE"})


@dataclass(frozen=True, slots=True)
class Edit:
    """What to do with the resource: write `text` back, delete the whole resource, or nothing."""

    action: Literal["put", "delete", "absent", "unchanged"]
    text: str = ""  # the new resource text when action == "put"


@dataclass(frozen=True, slots=True)
class _Block:
    """One VEVENT: its BEGIN/END line indices, its own property lines, icalendar's reading."""

    start: int
    end: int
    props: tuple[int, ...]
    component: Component


@dataclass(frozen=True, slots=True)
class _Form:
    """How a DTSTART-like property is written: its parameters as text, zone, "Z" suffix."""

    params: str
    zone: tzinfo | None  # None: a VALUE=DATE property
    utc: bool

    def wall(self, instance: Instance) -> datetime | date:
        """The value this form writes for an instance: a date, or a naive wall time."""
        if self.zone is None or not isinstance(instance, datetime):
            if self.zone is not None or isinstance(instance, datetime):
                raise ValueError("a date and a date-time instance cannot be compared")
            return instance
        return instance.astimezone(self.zone).replace(tzinfo=None)

    def line(self, name: str, wall: datetime | date) -> str:
        """The unfolded content line `name` with this form's parameters and `wall`."""
        if isinstance(wall, datetime):
            return f"{name}{self.params}:{wall:%Y%m%dT%H%M%S}{'Z' if self.utc else ''}"
        return f"{name}{self.params}:{wall:%Y%m%d}"


def _prop(component: Component, name: str) -> Any:
    prop = component.get(name)
    if isinstance(prop, list) or not hasattr(prop, "dt"):
        raise ValueError(f"{name} of VEVENT {component.get('UID', '')!s} is not one value")
    return prop


class _Resource:
    """A resource's lines, its VEVENT blocks and the zones to read their instants in."""

    def __init__(self, text: str, zone: ZoneInfo) -> None:
        self.lines = split_lines(text)
        self.eol = line_ending(text)
        self.zone = zone
        spans = vevent_spans(self.lines)
        try:
            calendar = read_calendar(text.encode("utf-8"))
        except UnicodeError as exc:
            raise ValueError(f"calendar resource is not encodable text: {exc}") from exc
        if isinstance(calendar, Rejected):
            # The contract: text that is no readable VCALENDAR is a ValueError, never other.
            raise ValueError(f"calendar resource cannot be read: {calendar.detail}")  # noqa: TRY004 -- the contract above
        self.calendar: Calendar = calendar
        vevents = [c for c in calendar.subcomponents if c.name == "VEVENT"]
        if len(vevents) != len(spans):
            raise ValueError("calendar resource has VEVENTs nested where none belong")
        self.blocks = [_Block(*span, c) for span, c in zip(spans, vevents, strict=True)]
        self.zones = Zones(c for c in calendar.subcomponents if isinstance(c, Timezone))

    def find(self, uid: str) -> list[_Block]:
        """The VEVENTs with UID `uid`."""
        return [b for b in self.blocks if _uid(b.component) == uid.strip()]

    def zone_of(self, prop: Any) -> tzinfo:
        """The zone a date-time property's wall time is in: its TZID, UTC, or floating."""
        tzid = str(prop.params.get("TZID", "")).strip()
        if tzid and tzid.upper() not in {"UTC", "Z"}:
            if (zone := self.zones.get(tzid)) is None:
                raise ValueError(f"unknown TZID {tzid!r} and no VTIMEZONE for it")
            return zone
        return UTC if tzid or prop.dt.tzinfo is not None else self.zone

    def instance(self, prop: Any) -> Instance:
        """A date or date-time property as the instance it denotes."""
        value = prop.dt
        if not isinstance(value, datetime):
            return value  # type: ignore[no-any-return]  # icalendar's .dt is untyped
        return value.replace(tzinfo=self.zone_of(prop)).astimezone(UTC)

    def form(self, block: _Block, name: str) -> _Form:
        """How `block` writes property `name` (DTSTART, DTEND)."""
        prop = _prop(block.component, name)
        text = next((self.lines[i].text for i in block.props if self.lines[i].name == name), "")
        head, _, value = text.rpartition(":")
        zone = self.zone_of(prop) if isinstance(prop.dt, datetime) else None
        return _Form(head[len(name) :], zone, value.strip().upper().endswith("Z"))

    def overrides(self, blocks: Sequence[_Block], key: Instance) -> list[_Block]:
        """The VEVENTs among `blocks` whose RECURRENCE-ID denotes `key`."""
        found = [b for b in blocks if "RECURRENCE-ID" in b.component]
        return [b for b in found if _same(self.instance(_prop(b.component, "RECURRENCE-ID")), key)]

    def produces(self, master: _Block, key: Instance) -> bool:
        """Whether the master's RRULE/RDATE, less its EXDATEs, yields the instance `key`."""
        if not any(self.lines[i].name in {"RRULE", "RDATE"} for i in master.props):
            return False
        form = self.form(master, "DTSTART")
        if (form.zone is None) == isinstance(key, datetime):
            return False  # an all-day series has no timed instances, and the reverse
        wall = form.wall(key)
        day = wall.date() if isinstance(wall, datetime) else wall
        uid = _uid(master.component)
        # Only this UID: a broken unrelated event must not stop us, and without the
        # VCALENDAR's X-WR-TIMEZONE floating times stay floating, as we read them.
        series = Calendar()
        for component in self.calendar.subcomponents:
            if isinstance(component, Timezone) or _uid(component) == uid:
                series.add_component(component)
        try:
            found = recurring_ical_events.of(series).between(
                day - timedelta(days=1), day + timedelta(days=2)
            )
        except Exception as exc:  # the expander raises many types on junk
            raise ValueError(f"recurrence of VEVENT {uid!r} cannot be expanded: {exc}") from exc
        for occurrence in found:
            if _uid(occurrence) != uid or "RECURRENCE-ID" not in occurrence:
                continue
            value = _prop(occurrence, "RECURRENCE-ID").dt
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            if _same(value, wall):
                return True
        return False

    def text(
        self, *, changed: dict[int, str], dropped: set[int], added: dict[int, list[str]]
    ) -> str:
        """The resource with lines replaced (unfolded text), dropped, or added after one."""
        out: list[str] = []
        for index, line in enumerate(self.lines):
            if index not in dropped:
                out.append(fold(changed[index], self.eol) if index in changed else line.raw)
            out.extend(added.get(index, []))
        return "".join(out)


def _uid(component: Component) -> str:
    value = component.get("UID", "")
    return str(value[0] if isinstance(value, list) else value).strip()


def _email(prop: Property) -> str:
    """An ATTENDEE's email: its `mailto:` value, else (Apple's `urn:x-uid:`) EMAIL=."""
    if not prop.value.lower().startswith("mailto:") and (param := prop.get("EMAIL")):
        return normalise_email(unquote(param))
    return normalise_email(prop.value)


def _same(left: Instance, right: Instance) -> bool:
    return isinstance(left, datetime) == isinstance(right, datetime) and left == right


def _key(recurrence_id: datetime | date, zone: ZoneInfo) -> Instance:
    if not isinstance(recurrence_id, datetime):
        return recurrence_id
    aware = recurrence_id if recurrence_id.tzinfo else recurrence_id.replace(tzinfo=zone)
    return aware.astimezone(UTC)


def _declined(
    lines: Sequence[Line], indices: Sequence[int], mine: Collection[str]
) -> dict[int, str] | None:
    """The lines to rewrite so the user's ATTENDEE declines; None if the user is not one."""
    changed: dict[int, str] = {}
    attendee = False
    for index in indices:
        name = lines[index].name
        if name not in {"ATTENDEE", "ORGANIZER"}:
            continue
        prop = parse(lines[index].text)
        if name == "ATTENDEE":
            if _email(prop) not in mine:
                continue
            attendee = True
            partstat = unquote(prop.get("PARTSTAT") or "").upper()
            if partstat == "DECLINED" and prop.get("RSVP") is None:
                continue
            prop.set("PARTSTAT", "DECLINED")
            prop.drop("RSVP")
        elif unquote(prop.get("SCHEDULE-AGENT") or "").upper() == "CLIENT":
            continue
        else:
            # RFC 6638 7.1: the server must not send its own reply for this change.
            prop.set("SCHEDULE-AGENT", "CLIENT")
        changed[index] = prop.render()
    return changed if attendee else None


def _organizer_schedules_itself(lines: Sequence[Line], indices: Sequence[int]) -> dict[int, str]:
    """The ORGANIZER line with SCHEDULE-AGENT=CLIENT, if it lacks it: a scheduling server
    (RFC 6638) then sends no reply of its own for our change; the letter carried it."""
    changed: dict[int, str] = {}
    for index in indices:
        if lines[index].name != "ORGANIZER":
            continue
        prop = parse(lines[index].text)
        if unquote(prop.get("SCHEDULE-AGENT") or "").upper() != "CLIENT":
            prop.set("SCHEDULE-AGENT", "CLIENT")
            changed[index] = prop.render()
    return changed


def _new_override(
    res: _Resource, master: _Block, key: Instance, edits: dict[int, str]
) -> list[str]:
    """The lines of a new override VEVENT for instance `key`, copied from the master."""
    start = res.form(master, "DTSTART")
    wall = start.wall(key)
    lines: list[str] = []
    for index in range(master.start, master.end + 1):
        line = res.lines[index]
        own = index in master.props
        if own and line.name in _RECURRENCE:
            continue
        if own and line.name == "DTSTART":
            lines += [fold(start.line("DTSTART", wall), res.eol)]
            lines += [fold(start.line("RECURRENCE-ID", wall), res.eol)]
        elif own and line.name == "DTEND":
            lines.append(fold(_moved_end(res, master, key, start), res.eol))
        elif index in edits:
            lines.append(fold(edits[index], res.eol))
        else:
            lines.append(line.raw)
    return lines


def _moved_end(res: _Resource, master: _Block, key: Instance, start: _Form) -> str:
    """The instance's DTEND line: as long as the master's, written in DTEND's own form."""
    end = res.form(master, "DTEND")
    begin, finish = _prop(master.component, "DTSTART"), _prop(master.component, "DTEND")
    if isinstance(begin.dt, datetime) != isinstance(finish.dt, datetime):
        raise ValueError("DTSTART and DTEND mix a date and a date-time")
    if (end.params, end.utc) == (start.params, start.utc) or not isinstance(begin.dt, datetime):
        # Same zone: the length is nominal, so 10:00-11:00 stays so across a DST change.
        length = _wall(finish.dt) - _wall(begin.dt)
        return end.line("DTEND", start.wall(key) + length)
    length = res.instance(finish) - res.instance(begin)
    return end.line("DTEND", end.wall(key + length))


def _wall(value: datetime | date) -> datetime | date:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def _master(blocks: Sequence[_Block]) -> _Block | None:
    return next((b for b in blocks if "RECURRENCE-ID" not in b.component), None)


def _decline_instance(res: _Resource, master: _Block, key: Instance, mine: Collection[str]) -> Edit:
    """Decline an instance that has no override yet by adding one, copied from the master."""
    if not res.produces(master, key):
        return Edit("absent")
    edits = _declined(res.lines, master.props, mine)
    if edits is None:
        return Edit("absent")
    if not edits:
        return Edit("unchanged")  # the instance inherits the master's decline
    added = {master.end: _new_override(res, master, key, edits)}
    return Edit("put", res.text(changed={}, dropped=set(), added=added))


def decline(
    text: str,
    *,
    uid: str,
    recurrence_id: datetime | date | None,
    addresses: Collection[str],
    zone: ZoneInfo,
) -> Edit:
    """The resource with the user's ATTENDEE of the event (or one instance) DECLINED.

    An instance with no override gets a new one; "absent" when the user is not invited to it.
    """
    res = _Resource(text, zone)
    mine = frozenset(spelling for address in addresses for spelling in address_spellings(address))
    blocks = res.find(uid)
    master = _master(blocks)
    if recurrence_id is None:
        targets = [master] if master is not None else []
    else:
        key = _key(recurrence_id, zone)
        targets = res.overrides(blocks, key)
        if not targets and master is not None:
            return _decline_instance(res, master, key, mine)
    changed: dict[int, str] = {}
    for block in targets:
        edits = _declined(res.lines, block.props, mine)
        if edits is None:
            return Edit("absent")
        changed.update(edits)
    if not targets or not changed:
        return Edit("unchanged" if targets else "absent")
    return Edit("put", res.text(changed=changed, dropped=set(), added={}))


def remove(text: str, *, uid: str, recurrence_id: datetime | date | None, zone: ZoneInfo) -> Edit:
    """The resource without the event ("delete": all of it) or without one instance.

    An instance gets an EXDATE on the master and loses its override; "absent" if not held.
    """
    res = _Resource(text, zone)
    blocks = res.find(uid)
    if not blocks or recurrence_id is None:
        return Edit("delete" if blocks else "absent")
    key = _key(recurrence_id, zone)
    overrides = res.overrides(blocks, key)
    dropped = {i for block in overrides for i in range(block.start, block.end + 1)}
    master = _master(blocks)
    if master is None and len(overrides) == len(res.blocks):
        return Edit("delete")  # the resource held only this instance
    added: dict[int, list[str]] = {}
    recurring = master is not None and any(
        res.lines[i].name in {"RRULE", "RDATE"} for i in master.props
    )
    # An override names an instance of the series even if it moved it out of the window
    # `produces` looks in.
    changed: dict[int, str] = {}
    if master is not None and ((overrides and recurring) or res.produces(master, key)):
        start = res.form(master, "DTSTART")
        names = {"DTSTART", *_RECURRENCE}
        after = max(i for i in master.props if res.lines[i].name in names)
        added[after] = [fold(start.line("EXDATE", start.wall(key)), res.eol)]
        changed = _organizer_schedules_itself(res.lines, master.props)
    if not added and not dropped:
        return Edit("absent")
    return Edit("put", res.text(changed=changed, dropped=dropped, added=added))
