"""Calendar parsing: every kind of time resolves to the right UTC instant, or is rejected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from decliner.core.parse import (
    InviteEvent,
    Rejected,
    looks_like_interview,
    parse_calendar,
    read_calendar,
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


def test_utc_times() -> None:
    """A UTC (Z) DTSTART/DTEND is taken as is."""
    event = one_event(ics("DTSTART:20261203T150000Z", "DTEND:20261203T160000Z"))
    assert event.start == datetime(2026, 12, 3, 15, tzinfo=UTC)
    assert event.end == datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert event.start.tzinfo is UTC
    assert not event.all_day


def test_iana_tzid_without_vtimezone() -> None:
    """An IANA TZID with no VTIMEZONE uses tzdata, in summer and in winter."""
    summer = one_event(ics("DTSTART;TZID=America/New_York:20260701T090000"))
    winter = one_event(ics("DTSTART;TZID=America/New_York:20261201T090000"))
    assert summer.start == utc("America/New_York", 2026, 7, 1, 9, 0)
    assert winter.start == utc("America/New_York", 2026, 12, 1, 9, 0)
    assert summer.tzid == "America/New_York"


def test_vtimezone_from_google() -> None:
    """A TZID with its VTIMEZONE block resolves by the block's rules."""
    vtimezone = """BEGIN:VTIMEZONE
TZID:America/Los_Angeles
X-LIC-LOCATION:America/Los_Angeles
BEGIN:DAYLIGHT
TZOFFSETFROM:-0800
TZOFFSETTO:-0700
TZNAME:PDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0700
TZOFFSETTO:-0800
TZNAME:PST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""
    event = one_event(
        ics(
            "DTSTART;TZID=America/Los_Angeles:20261103T100000",
            "DTEND;TZID=America/Los_Angeles:20261103T110000",
            before=vtimezone,
        )
    )
    assert event.start == utc("America/Los_Angeles", 2026, 11, 3, 10, 0)
    assert event.end == utc("America/Los_Angeles", 2026, 11, 3, 11, 0)


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Eastern Standard Time 1", "America/New_York"),
        ("(UTC-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
        ("(GMT-05:00) Eastern Time (US & Canada)", "America/New_York"),
    ],
)
def test_windows_zone_names(tzid: str, zone: str) -> None:
    """Outlook's Windows IDs, numbered copies and display names map to the IANA zone."""
    event = one_event(ics(f'DTSTART;TZID="{tzid}":20260708T140000'))
    assert event.start == utc(zone, 2026, 7, 8, 14, 0)


@pytest.mark.parametrize("tzid", ["Customized Time Zone", "tzone://Microsoft/Custom"])
def test_custom_zone_uses_its_vtimezone(tzid: str) -> None:
    """Outlook's custom zones take their rules from the VTIMEZONE sent with them."""
    block = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid=tzid, std="+0530", dst="+0630")
    event = one_event(ics(f'DTSTART;TZID="{tzid}":20260708T140000', before=block))
    assert event.start == datetime(2026, 7, 8, 7, 30, tzinfo=UTC)
    event = one_event(ics(f'DTSTART;TZID="{tzid}":20261208T140000', before=block))
    assert event.start == datetime(2026, 12, 8, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("tzone://Microsoft/Custom", ""),
        ("(UTC-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"),
    ],
)
def test_unquoted_tzid_with_colon(tzid: str, zone: str) -> None:
    """An unquoted TZID holding ":" (as Exchange writes it) splits at the value's colon."""
    block = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid=tzid, std="-0600", dst="-0500")
    event = one_event(
        ics(
            f"DTSTART;TZID={tzid}:20261215T150000",
            f"DTEND;TZID={tzid};X-FOO=1:20261215T160000",
            before=block if not zone else "",
        )
    )
    expected = utc(zone, 2026, 12, 15, 15, 0) if zone else datetime(2026, 12, 15, 21, tzinfo=UTC)
    assert event.start == expected
    assert event.end == expected + timedelta(hours=1)
    assert event.tzid == tzid


def test_read_calendar_repairs_for_reuse() -> None:
    """read_calendar re-reads calendar_bytes with the same repairs, for the iTIP REPLY."""
    tzid = "tzone://Microsoft/Custom"
    block = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid=tzid, std="-0600", dst="-0500")
    calendar = read_calendar(ics(f"DTSTART;TZID={tzid}:20261215T150000", before=block))
    assert isinstance(calendar, Calendar)
    assert calendar.walk("VEVENT")[0]["DTSTART"].params["TZID"] == tzid
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [tzid]


def test_same_custom_tzid_in_two_calendars() -> None:
    """Each calendar's own VTIMEZONE counts, despite icalendar's global first-wins cache."""
    tzid = "Customized Time Zone"
    first = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid=tzid, std="+0100", dst="+0200")
    second = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid=tzid, std="-0500", dst="-0400")
    line = f"DTSTART;TZID={tzid}:20260708T140000"
    assert one_event(ics(line, before=first)).start == datetime(2026, 7, 8, 12, tzinfo=UTC)
    assert one_event(ics(line, before=second)).start == datetime(2026, 7, 8, 18, tzinfo=UTC)


def test_custom_tzid_without_vtimezone_is_rejected() -> None:
    """A custom TZID seen earlier with a VTIMEZONE is still unknown in a calendar lacking one."""
    tzid = "Customized Time Zone 7"
    block = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid=tzid, std="+0100", dst="+0200")
    one_event(ics(f"DTSTART;TZID={tzid}:20260708T140000", before=block))
    result = rejected(ics(f"DTSTART;TZID={tzid}:20260708T140000"))
    assert result.reason == "timezone"
    assert tzid in result.detail


def test_vtimezone_after_the_event() -> None:
    """A VTIMEZONE placed after the VEVENT that uses it (a forward reference) still counts."""
    block = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid="Fwd Zone", std="+0300", dst="+0400")
    event = one_event(ics("DTSTART;TZID=Fwd Zone:20261208T140000", after=block))
    assert event.start == datetime(2026, 12, 8, 11, tzinfo=UTC)


# Rules seen to keep dateutil looping for minutes or for ever (found by the fuzzer).
RUNAWAY_RULES = [
    "FREQ=YEARLY;BYMONTH=0;BYDAY=-1SU",
    "FREQ=YEARLY;BYMONTH=30;BYDAY=-1SU",
    "FREQ=YEARLY;INTERVAL=0;BYDAY=-1SU;BYMONTH=3",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYMONTH=3",
    "FREQ=YEARLY;BYDAY=-9SU;BYMONTH=3",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;X-NOISE=1",
]


@pytest.mark.parametrize("rule", RUNAWAY_RULES)
def test_a_runaway_zone_rule_falls_back_to_the_name(rule: str) -> None:
    """A VTIMEZONE whose RRULE dateutil cannot expand in bounded time is not used: a known
    TZID is resolved by its name, an unknown one is rejected, and neither hangs."""
    block = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid="Europe/Berlin", std="+0530", dst="+0630")
    block = block.replace("FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", rule)
    event = one_event(ics("DTSTART;TZID=Europe/Berlin:20260708T140000", before=block))
    assert event.start == utc("Europe/Berlin", 2026, 7, 8, 14, 0)
    custom = block.replace("TZID:Europe/Berlin", "TZID:Customized Time Zone 9")
    result = rejected(ics('DTSTART;TZID="Customized Time Zone 9":20260708T140000', before=custom))
    assert result.reason == "timezone"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;BYDAY=1SU;BYMONTH=4",
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=8,9,10,11,12,13,14;BYDAY=SU",
        "FREQ=YEARLY;UNTIL=20370329T010000Z;BYMONTH=3;BYDAY=-1SU",
        "FREQ=YEARLY;COUNT=30;BYMONTH=3;BYDAY=-1SU;WKST=MO",
    ],
)
def test_the_rule_shapes_real_zones_use_are_kept(rule: str) -> None:
    """Yearly rules as Outlook, Apple, Google and old US zones write them keep their VTIMEZONE."""
    block = OUTLOOK_CUSTOM_VTIMEZONE.format(tzid="Customized Time Zone 8", std="+0530", dst="+0630")
    block = block.replace("FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", rule)
    event = one_event(ics('DTSTART;TZID="Customized Time Zone 8":20261208T140000', before=block))
    assert event.start == datetime(2026, 12, 8, 8, 30, tzinfo=UTC)


def test_unknown_tzid_is_rejected() -> None:
    """An unknown TZID without VTIMEZONE is a "timezone" rejection naming it."""
    result = rejected(ics("DTSTART;TZID=Mars/Olympus_Mons:20261203T150000"))
    assert result.reason == "timezone"
    assert "Mars/Olympus_Mons" in result.detail


def test_unknown_display_name_is_rejected() -> None:
    """An Outlook display name we do not know is rejected, never guessed from its offset."""
    result = rejected(ics('DTSTART;TZID="(UTC+04:30) Nowhere Land":20261203T150000'))
    assert result.reason == "timezone"


def test_floating_time_uses_default_zone() -> None:
    """A floating time is the user's wall clock in `default_tz`."""
    event = one_event(ics("DTSTART:20260708T140000", "DTEND:20260708T150000"))
    assert event.start == utc("Europe/Berlin", 2026, 7, 8, 14, 0)
    assert event.end == utc("Europe/Berlin", 2026, 7, 8, 15, 0)


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


def test_broken_line_in_event() -> None:
    """A line icalendar dropped (recorded only in `errors`) makes the event "malformed"."""
    assert rejected(ics("DTSTART:20261203T150000Z", "no colon here")).reason == "malformed"


def test_truncated_calendar() -> None:
    """A calendar cut off before END:VCALENDAR is "malformed"."""
    data = ics("DTSTART:20261203T150000Z")
    assert rejected(data[: data.index(b"END:VEVENT")]).reason == "malformed"
    assert rejected(data[: data.index(b"END:VCALENDAR")]).reason == "malformed"


def test_end_before_start() -> None:
    """DTEND before DTSTART is "malformed", not a negative-length interview."""
    data = ics("DTSTART:20261203T150000Z", "DTEND:20261203T140000Z")
    assert rejected(data).reason == "malformed"


def test_date_and_datetime_mixed() -> None:
    """An all-day DTSTART with a timed DTEND is "malformed"."""
    data = ics("DTSTART;VALUE=DATE:20261203", "DTEND:20261203T140000Z")
    assert rejected(data).reason == "malformed"


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


def test_a_vtimezone_is_built_once_per_distinct_text() -> None:
    """The same VTIMEZONE block in two calendars gives the very same zone (built once, as
    building expands its rules over decades); a different block under the same TZID does not."""
    from icalendar import Timezone

    from decliner.core.parse.timezones import resolve_tzid

    tzid = "Customized Time Zone 9"
    blocks = [
        OUTLOOK_CUSTOM_VTIMEZONE.format(tzid=tzid, std=std, dst=dst)
        for std, dst in (("+0100", "+0200"), ("+0100", "+0200"), ("-0500", "-0400"))
    ]
    zones = []
    for block in blocks:
        calendar = read_calendar(ics(f"DTSTART;TZID={tzid}:20260708T140000", before=block))
        assert isinstance(calendar, Calendar)
        [component] = [c for c in calendar.walk("VTIMEZONE") if isinstance(c, Timezone)]
        zones.append(resolve_tzid(tzid, {tzid: component}))
    assert zones[0] is zones[1] and zones[2] is not zones[0]
