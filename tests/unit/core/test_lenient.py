"""Calendars from other producers (issue 24): read leniently where it is safe, exactly where
it matters. Each case is the shape a real producer wrote, cut down to what shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from decliner.core.caledit.edit import decline
from decliner.core.letters.itip import decline_reply
from decliner.core.parse import InviteEvent, Rejected, parse_calendar
from decliner.core.parse.model import NO_START, Address, InviteMessage
from decliner.core.plan.events import EventRecord, merge, record_from

ME = Address("jane@example.com", "Jane Doe")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ORGANIZER = "ORGANIZER;CN=Sam:mailto:sam@acme.example\r\n"
ATTENDEE = "ATTENDEE;CN=Jane;PARTSTAT=NEEDS-ACTION:mailto:jane@example.com\r\n"
TIMES = "DTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\n"


def cal(method: str, *lines: str, head: str = "") -> bytes:
    body = "".join(line if line.endswith("\r\n") else line + "\r\n" for line in lines)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Producer//EN\r\n"
        + (f"METHOD:{method}\r\n" if method else "")
        + head
        + "BEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20261123T100000Z\r\n"
        + body
        + "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def events(data: bytes) -> tuple[InviteEvent, ...]:
    found = parse_calendar(data, me=[ME.email], default_tz=ZoneInfo("UTC"))
    assert isinstance(found, tuple), found
    return found[1]


def one(data: bytes) -> InviteEvent:
    (event,) = events(data)
    return event


def record(data: bytes, event: InviteEvent | None = None) -> EventRecord:
    return record_from(
        event_id="e1",
        event=event or one(data),
        message=InviteMessage(subject="Interview"),
        folder="INBOX",
        uid=1,
        ical=data,
    )


def reply_lines(data: bytes) -> list[str]:
    raw = decline_reply(event=record(data), me=ME, reason="", now=NOW, zone=ZoneInfo("UTC"))
    text = raw.decode("utf-8").replace("\r\n ", "")
    vevent = text[text.index("BEGIN:VEVENT") :]
    return vevent.split("\r\n")


def test_a_cancel_without_dtstart_is_read_by_uid() -> None:
    """RFC 5546 3.2.5 lets a CANCEL name only UID (and RECURRENCE-ID): it is read, its
    times unknown, and it cancels the stored request, whose times stay."""
    cancel = one(cal("CANCEL", ORGANIZER, ATTENDEE, "SEQUENCE:1"))
    assert (cancel.method, cancel.start) == ("CANCEL", NO_START)
    request = cal("REQUEST", ORGANIZER, ATTENDEE, TIMES)
    merged = merge(record(request), record(cal("CANCEL", ORGANIZER, ATTENDEE), cancel))
    assert merged is not None
    assert merged.cancelled_by_organizer
    assert merged.start == datetime(2026, 12, 10, 10, tzinfo=UTC)


def test_a_bare_cancel_first_then_its_request_stays_cancelled_with_the_requests_times() -> None:
    """Read out of order (another folder first), the request gives the times and the event
    stays cancelled; a newer request (a re-invite) is live again."""
    cancel_data = cal("CANCEL", ORGANIZER, ATTENDEE, "SEQUENCE:1")
    bare = record(cancel_data)
    request = record(cal("REQUEST", ORGANIZER, ATTENDEE, TIMES, "SEQUENCE:1"))
    merged = merge(bare, request)
    assert merged is not None
    assert merged.cancelled_by_organizer
    assert merged.start == datetime(2026, 12, 10, 10, tzinfo=UTC)
    newer = record(cal("REQUEST", ORGANIZER, ATTENDEE, TIMES, "SEQUENCE:2"))
    assert merge(bare, newer) == newer


def test_a_request_without_dtstart_is_still_refused() -> None:
    """A REQUEST needs its start: without one there is nothing to withdraw from."""
    found = parse_calendar(
        cal("REQUEST", ORGANIZER, ATTENDEE), me=[ME.email], default_tz=ZoneInfo("UTC")
    )
    assert isinstance(found, Rejected)
    assert found.reason == "no-dtstart"


@pytest.mark.parametrize("name", ["SUMMARY", "UID", "LOCATION", "ORGANIZER", "DTSTART"])
def test_a_repeated_property_takes_its_first_value_with_a_warning(name: str) -> None:
    """Two SUMMARY lines (Google), a repeated UID: the first wins, the repeat is warned, and
    no repr of a library object appears anywhere."""
    lines = {
        "SUMMARY": ("SUMMARY:The Strokes", "SUMMARY:Is this it?"),
        "UID": ("UID:u1",),
        "LOCATION": ("LOCATION:Room 1", "LOCATION:Room 2"),
        "ORGANIZER": (ORGANIZER, "ORGANIZER:mailto:other@acme.example"),
        "DTSTART": ("DTSTART:20261211T100000Z",),
    }[name]
    data = cal("REQUEST", ORGANIZER if name != "ORGANIZER" else "", ATTENDEE, TIMES, *lines)
    event = one(data)
    assert f"{name} appears 2 times; the first is used" in event.warnings
    assert "vText" not in repr(event)
    assert "vCalAddress" not in repr(event)
    assert "[" not in event.summary + event.uid + event.location
    if name == "SUMMARY":
        assert event.summary == "The Strokes"
    if name == "DTSTART":
        assert event.start == datetime(2026, 12, 10, 10, tzinfo=UTC)
    if name == "ORGANIZER":
        assert event.organizer == Address("sam@acme.example", "Sam")


def test_a_sequence_beyond_32_bits_is_read() -> None:
    """Google has sent SEQUENCE above 2**31: the number is what counts, with a warning."""
    event = one(cal("REQUEST", ORGANIZER, ATTENDEE, TIMES, "SEQUENCE:3000000000"))
    assert event.sequence == 3_000_000_000
    assert any(w.startswith("SEQUENCE 3000000000 read") for w in event.warnings)


def test_an_rrule_with_spaces_is_repaired() -> None:
    """Microsoft CDO writes `BYDAY=MO, TU, WE`: read without the spaces, warned."""
    event = one(cal("REQUEST", ORGANIZER, ATTENDEE, TIMES, "RRULE:FREQ=WEEKLY;BYDAY=MO, TU, WE"))
    assert event.rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE"
    assert any(w.startswith("RRULE repaired") for w in event.warnings)


def test_an_unreadable_rrule_is_ignored_not_the_invitation() -> None:
    """`decliner` only shows the rule: an unreadable one is dropped with a warning."""
    event = one(cal("REQUEST", ORGANIZER, ATTENDEE, TIMES, "RRULE:FREQ=SOMETIMES;BYDAY=XX"))
    assert event.rrule == ""
    assert any(w.startswith("RRULE ignored") for w in event.warnings)


def test_a_listing_of_many_published_events_is_no_invitation() -> None:
    """A PUBLISH calendar of many events (a cinema's week) is not listed; one event is."""
    many = "".join(
        f"BEGIN:VEVENT\r\nUID:film{n}\r\nDTSTAMP:20261123T100000Z\r\n"
        f"DTSTART:2026121{n}T200000Z\r\nSUMMARY:Screening {n}\r\nEND:VEVENT\r\n"
        for n in range(5)
    )
    listing = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Cinema//EN\r\nMETHOD:PUBLISH\r\n{many}END:VCALENDAR\r\n"
    assert parse_calendar(listing.encode(), me=[ME.email], default_tz=ZoneInfo("UTC")) is None
    single = cal("PUBLISH", TIMES, "SUMMARY:Interview with Acme")
    assert one(single).kind == "static"


def test_the_reply_echoes_the_times_as_the_request_wrote_them() -> None:
    """`DTSTART;TZID=Europe/London:20140130T140000Z` keeps its Z (SPEC 7: DTSTART
    unchanged), and DTEND and RECURRENCE-ID likewise."""
    data = cal(
        "REQUEST",
        ORGANIZER,
        ATTENDEE,
        "DTSTART;TZID=Europe/London:20261210T140000Z",
        "DTEND;TZID=Europe/London:20261210T150000Z",
        "RECURRENCE-ID;TZID=Europe/London:20261210T140000Z",
    )
    lines = reply_lines(data)
    assert "DTSTART;TZID=Europe/London:20261210T140000Z" in lines
    assert "DTEND;TZID=Europe/London:20261210T150000Z" in lines
    assert "RECURRENCE-ID;TZID=Europe/London:20261210T140000Z" in lines
    assert (
        Calendar.from_ical(
            decline_reply(event=record(data), me=ME, reason="", now=NOW, zone=ZoneInfo("UTC"))
        ).errors
        == []
    )


def test_an_apple_urn_address_with_an_email_parameter_is_the_address_invited() -> None:
    """Apple Calendar Server writes `ATTENDEE;EMAIL=jane@...:urn:x-uid:...`: the user is
    found, the organizer too, and the REPLY names the attendee exactly as invited."""
    data = cal(
        "REQUEST",
        "ORGANIZER;CN=Sam;EMAIL=sam@acme.example:urn:x-uid:AAA",
        "ATTENDEE;CN=Jane;EMAIL=jane@example.com;PARTSTAT=NEEDS-ACTION:urn:x-uid:BBB",
        TIMES,
    )
    event = one(data)
    assert event.attendee == Address("jane@example.com", "Jane")
    assert event.organizer == Address("sam@acme.example", "Sam")
    attendee = next(line for line in reply_lines(data) if line.startswith("ATTENDEE"))
    assert attendee.endswith(":urn:x-uid:BBB")
    assert "EMAIL=jane@example.com" in attendee


def test_icalendars_own_warnings_are_kept_with_the_event() -> None:
    """A globally unique TZID makes icalendar warn; the warning joins the event's warnings
    (the shell logs them with folder and key) instead of reaching stderr bare."""
    event = one(
        cal(
            "REQUEST",
            ORGANIZER,
            ATTENDEE,
            "DTSTART;TZID=/example.org/Europe/Berlin:20261210T140000",
            "DTEND;TZID=/example.org/Europe/Berlin:20261210T150000",
        )
    )
    assert event.start == datetime(2026, 12, 10, 13, tzinfo=UTC)
    assert any("globally unique TZID" in w for w in event.warnings)


def test_an_apple_urn_attendee_is_declined_in_the_users_own_calendar() -> None:
    """In an iCloud calendar the user's ATTENDEE may be `urn:x-uid:` with EMAIL=: the
    decline finds it by the EMAIL parameter and changes that line."""
    resource = cal(
        "",
        "ORGANIZER;CN=Sam;EMAIL=sam@acme.example:urn:x-uid:AAA",
        "ATTENDEE;CN=Jane;EMAIL=jane@example.com;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:urn:x-uid:BBB",
        TIMES,
    ).decode()
    edit = decline(
        resource, uid="u1", recurrence_id=None, addresses=[ME.email], zone=ZoneInfo("UTC")
    )
    assert edit.text is not None
    assert "ATTENDEE;CN=Jane;EMAIL=jane@example.com;PARTSTAT=DECLINED:urn:x-uid:BBB" in edit.text


def test_a_part_with_several_vcalendars_reads_the_first_with_a_warning() -> None:
    """Some producers put two VCALENDARs in one part: the first is read, and warned."""
    first = cal("REQUEST", ORGANIZER, ATTENDEE, TIMES, "SUMMARY:First")
    second = cal("REQUEST", ORGANIZER, ATTENDEE, TIMES, "SUMMARY:Second")
    event = one(first + second)
    assert event.summary == "First"
    assert "the part holds 2 components at its top; the first VCALENDAR is read" in event.warnings


def test_rereading_a_calendar_warns_nothing_bare() -> None:
    """The REPLY re-reads the stored request; what icalendar says then was logged at the
    scan and is not printed again by Python (pytest turns any warning into an error)."""
    data = cal(
        "REQUEST",
        ORGANIZER,
        ATTENDEE,
        "DTSTART;TZID=/example.org/Europe/Berlin:20261210T140000",
        "DTEND;TZID=/example.org/Europe/Berlin:20261210T150000",
    )
    assert any(line.startswith("DTSTART") for line in reply_lines(data))
