"""Calendar parsing: every kind of time resolves to the right UTC instant, or is rejected."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from decliner.core.parse import (
    looks_like_interview,
)
from tests.testbed.invite_ics import ics, one_event, parse, rejected, utc


def test_all_day_event() -> None:
    """An all-day event keeps its dates and starts at local midnight of the account zone."""
    event = one_event(ics("DTSTART;VALUE=DATE:20261203", "DTEND;VALUE=DATE:20261205"))
    assert event.all_day
    assert (event.start_date, event.end_date) == (date(2026, 12, 3), date(2026, 12, 5))
    assert event.start == utc("Europe/Berlin", 2026, 12, 3, 0, 0)
    assert event.end == utc("Europe/Berlin", 2026, 12, 5, 0, 0)


def test_all_day_without_end_lasts_one_day() -> None:
    """An all-day event without DTEND or DURATION ends the next day."""
    event = one_event(ics("DTSTART;VALUE=DATE:20261203"))
    assert event.end_date == date(2026, 12, 4)
    assert event.end == utc("Europe/Berlin", 2026, 12, 4, 0, 0)


def test_duration_instead_of_dtend() -> None:
    """Without DTEND, DURATION gives the end."""
    event = one_event(ics("DTSTART:20261203T150000Z", "DURATION:PT45M"))
    assert event.end == datetime(2026, 12, 3, 15, 45, tzinfo=UTC)


def test_day_duration_is_nominal_across_dst() -> None:
    """A P1D duration over a DST change ends at the same wall-clock time the next day."""
    event = one_event(ics("DTSTART;TZID=Europe/Berlin:20261024T100000", "DURATION:P1D"))
    assert event.end == utc("Europe/Berlin", 2026, 10, 25, 10, 0)


def test_no_end_and_no_duration() -> None:
    """A timed event without DTEND or DURATION ends when it starts."""
    event = one_event(ics("DTSTART:20261203T150000Z"))
    assert event.end == event.start


def test_recurring_series_and_override() -> None:
    """The series master keeps its RRULE; an override is a separate event keyed by RECURRENCE-ID."""
    override = """BEGIN:VEVENT
UID:u1@test
RECURRENCE-ID;TZID=Europe/Berlin:20261210T100000
DTSTART;TZID=Europe/Berlin:20261211T100000
DTEND;TZID=Europe/Berlin:20261211T110000
SEQUENCE:2
ORGANIZER:mailto:sam@acme.example
ATTENDEE:mailto:jane.doe@example.com
SUMMARY:Interview loop (moved)
END:VEVENT"""
    result = parse(
        ics(
            "DTSTART;TZID=Europe/Berlin:20261203T100000",
            "DTEND;TZID=Europe/Berlin:20261203T110000",
            "RRULE:FREQ=WEEKLY;WKST=MO;COUNT=3;BYDAY=TH",
            after=override,
        )
    )
    assert isinstance(result, tuple)
    master, moved = result[1]
    assert master.rrule == "FREQ=WEEKLY;WKST=MO;COUNT=3;BYDAY=TH"  # as written, not reordered
    assert master.recurrence_id is None
    assert moved.recurrence_id == utc("Europe/Berlin", 2026, 12, 10, 10, 0)
    assert moved.start == utc("Europe/Berlin", 2026, 12, 11, 10, 0)
    assert moved.sequence == 2
    assert master.key != moved.key


def test_all_day_recurrence_id_is_a_date() -> None:
    """A RECURRENCE-ID of an all-day series is kept as a date."""
    event = one_event(ics("RECURRENCE-ID;VALUE=DATE:20261210", "DTSTART;VALUE=DATE:20261211"))
    assert event.recurrence_id == date(2026, 12, 10)


def test_fields_and_addresses() -> None:
    """Organizer, the user's ATTENDEE (an alias, any case), others, status and PARTSTAT are read."""
    event = one_event(
        ics(
            "DTSTART:20261203T150000Z",
            "SEQUENCE:3",
            "LOCATION:Room 4\\, HQ",
            "DESCRIPTION:Line one\\nLine two",
            "STATUS:CONFIRMED",
            "ATTENDEE;CN=Hiring Manager:mailto:boss@acme.example",
            "ATTENDEE:mailto:sam@acme.example",
            attendee="ATTENDEE;PARTSTAT=TENTATIVE:MAILTO:JDoe@Example.ORG",
        )
    )
    assert event.organizer is not None
    assert (event.organizer.email, event.organizer.name) == ("sam@acme.example", "Sam Recruiter")
    assert event.attendee is not None
    assert event.attendee.email == "jdoe@example.org"
    assert [a.email for a in event.other_attendees] == ["boss@acme.example"]
    assert event.partstat == "TENTATIVE"
    assert (event.sequence, event.status, event.method) == (3, "CONFIRMED", "REQUEST")
    assert event.location == "Room 4, HQ"
    assert event.description == "Line one\nLine two"


def test_summary_cannot_carry_newlines() -> None:
    """An escaped newline in SUMMARY is flattened, so it can never become a header."""
    data = ics("DTSTART:20261203T150000Z").replace(
        b"SUMMARY:Interview with Acme", b"SUMMARY:Hi\\nBcc: victim@example.net"
    )
    assert one_event(data).summary == "Hi Bcc: victim@example.net"


def test_cancel_is_returned() -> None:
    """A METHOD:CANCEL is returned, so the store can mark the event cancelled by the organizer."""
    result = parse(ics("DTSTART:20261203T150000Z", "STATUS:CANCELLED", method="CANCEL"))
    assert isinstance(result, tuple)
    assert result[0] == "CANCEL"
    assert result[1][0].status == "CANCELLED"


@pytest.mark.parametrize("method", ["REPLY", "COUNTER", "DECLINECOUNTER", "REFRESH"])
def test_other_methods_are_not_invites(method: str) -> None:
    """Calendars with a METHOD other than REQUEST, CANCEL or PUBLISH are not invitations."""
    assert parse(ics("DTSTART:20261203T150000Z", method=method)) is None


def test_publish_naming_the_user_is_a_static_invitation() -> None:
    """METHOD:PUBLISH with the user as ATTENDEE: its events are of kind static (SPEC 1)."""
    result = parse(ics("DTSTART:20261203T150000Z", method="PUBLISH"))
    assert isinstance(result, tuple)
    assert result[0] == "PUBLISH" and [e.kind for e in result[1]] == ["static"]


def test_no_method_with_organizer_and_me() -> None:
    """Without METHOD, an ORGANIZER plus the user as ATTENDEE is an invite, method ""."""
    result = parse(ics("DTSTART:20261203T150000Z", method=None))
    assert isinstance(result, tuple)
    assert result[0] == ""


def test_no_method_without_me() -> None:
    """Without METHOD, a calendar not naming the user as ATTENDEE is no invite."""
    data = ics("DTSTART:20261203T150000Z", method=None, attendee="ATTENDEE:mailto:x@y.example")
    assert parse(data) is None


def test_missing_dtstart() -> None:
    """A VEVENT without DTSTART is a "no-dtstart" rejection."""
    assert rejected(ics("DTEND:20261203T160000Z")).reason == "no-dtstart"


@pytest.mark.parametrize("value", ["DTSTART:tomorrow", "DTSTART:20261340T250000Z", "DTSTART:2026"])
def test_garbage_dtstart(value: str) -> None:
    """A DTSTART icalendar could not parse (it keeps it as vBroken) is "malformed"."""
    assert rejected(ics(value)).reason == "malformed"


def test_broken_line_in_event_is_ignored_with_a_warning() -> None:
    """A line icalendar dropped (recorded only in `errors`) costs nothing decliner needs:
    the event is read, and the warning says a line was ignored."""
    event = one_event(ics("DTSTART:20261203T150000Z", "no colon here"))
    assert event.start == datetime(2026, 12, 3, 15, tzinfo=UTC)
    assert event.warnings == ("a line that is no property was ignored",)


def test_truncated_calendar() -> None:
    """A calendar cut off before END:VCALENDAR is "malformed"."""
    data = ics("DTSTART:20261203T150000Z")
    assert rejected(data[: data.index(b"END:VEVENT")]).reason == "malformed"
    assert rejected(data[: data.index(b"END:VCALENDAR")]).reason == "malformed"


def test_end_before_start_is_ignored_with_a_warning() -> None:
    """DTEND before DTSTART is no negative-length interview: the event ends as it starts,
    and the warning says so (the start is what a withdrawal needs)."""
    event = one_event(ics("DTSTART:20261203T150000Z", "DTEND:20261203T140000Z"))
    assert event.end == event.start == datetime(2026, 12, 3, 15, tzinfo=UTC)
    assert event.warnings == (
        "DTEND before DTSTART ignored: the event is taken to end as it starts",
    )


def test_date_and_datetime_mixed_keeps_the_day() -> None:
    """An all-day DTSTART with a timed DTEND: the DTEND is ignored, warned, and the event
    lasts its one day."""
    event = one_event(ics("DTSTART;VALUE=DATE:20261203", "DTEND:20261203T140000Z"))
    assert (event.all_day, event.start_date, event.end_date) == (
        True,
        date(2026, 12, 3),
        date(2026, 12, 4),
    )
    assert event.warnings == ("DTEND ignored: DTSTART and DTEND mix a date and a date-time",)


def test_invalid_utf8() -> None:
    """Invalid UTF-8 is an "encoding" rejection, not text with U+FFFD in it."""
    data = ics("DTSTART:20261203T150000Z").replace(b"with Acme", b"with Caf\xe9")
    assert rejected(data).reason == "encoding"


def test_fold_inside_a_utf8_sequence() -> None:
    """A line folded in the middle of a multi-byte character is unfolded before decoding."""
    data = ics("DTSTART:20261203T150000Z").replace(
        b"SUMMARY:Interview with Acme", b"SUMMARY:Interview in Z\xc3\r\n \xbcrich"
    )
    assert one_event(data).summary == "Interview in Zürich"


def test_request_without_vevent() -> None:
    """A METHOD:REQUEST calendar without any VEVENT is "malformed"."""
    data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    assert rejected(data).reason == "malformed"


def test_duplicate_event_keeps_highest_sequence() -> None:
    """Two VEVENTs with one UID and RECURRENCE-ID collapse to the higher SEQUENCE."""
    newer = """BEGIN:VEVENT
UID:u1@test
SEQUENCE:5
DTSTART:20261204T150000Z
ORGANIZER:mailto:sam@acme.example
END:VEVENT"""
    result = parse(ics("DTSTART:20261203T150000Z", "SEQUENCE:1", after=newer))
    assert isinstance(result, tuple)
    assert [(e.sequence, e.start.day) for e in result[1]] == [(5, 4)]


@pytest.mark.parametrize(
    ("summary", "description", "expected"),
    [
        ("Interview with Acme", "", True),
        ("Phone screen", "", True),
        ("Onsite loop", "", True),
        ("Chat with Sam", "", True),
        ("Vorstellungsgespräch bei Acme", "", True),
        ("Entretien avec Acme", "", True),
        ("Entrevista técnica", "", True),
        ("Colloquio conoscitivo", "", True),
        ("Team lunch", "Hiring manager will join", True),
        ("Dentist", "", False),
        ("Book club", "loophole discussion", False),
    ],
)
def test_looks_like_interview(summary: str, description: str, expected: bool) -> None:
    """The keyword heuristic spots interviews in several languages and skips the rest."""
    assert looks_like_interview(summary, description) is expected


def test_recruiting_tool_domains_count_as_interviews() -> None:
    """A neutral title from an applicant-tracking system's domain still looks like an interview."""
    from decliner.core.parse.interview import looks_like_interview

    assert not looks_like_interview("Catch-up", "", ["friend@example.com"])
    assert looks_like_interview("Catch-up", "", ["no-reply@us.greenhouse-mail.io"])
    assert looks_like_interview("Catch-up", "", ["scheduling@hire.lever.co"])
    assert looks_like_interview("Entretien avec Acme")
    assert not looks_like_interview("Dentist")
