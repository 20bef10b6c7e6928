"""Calendar parsing of time zones: UTC, IANA, Windows and custom TZIDs, VTIMEZONE blocks and
rules dateutil cannot expand; every time resolves to the right UTC instant, or is rejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from decliner.core.parse import (
    read_calendar,
)
from tests.testbed.invite_ics import OUTLOOK_CUSTOM_VTIMEZONE, ics, one_event, rejected, utc


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
