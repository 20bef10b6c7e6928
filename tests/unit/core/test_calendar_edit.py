"""Declining or dropping the user's copy of an interview in a CalDAV resource, byte-exactly."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from decliner.core.caledit.edit import Edit, decline, remove
from decliner.core.parse.contentlines import split_lines
from tests.testbed.calendar_resources import (
    ATTENDEE,
    CLIENT_SCHEDULED,
    DESCRIPTION,
    ORGANIZER,
    OTHER,
    changed,
    event,
    master,
    put,
    resource,
    series,
    single,
    vevents,
)
from tests.testbed.fuzz import LONG, examples

BERLIN = ZoneInfo("Europe/Berlin")
ME = ("jane@example.com", "j.doe@alias.example")


def test_decline_single_event_changes_only_the_two_lines() -> None:
    """Only the user's ATTENDEE and the ORGANIZER change; every other byte stays as written."""
    before = single()
    after = put(decline(before, uid="iv-1", recurrence_id=None, addresses=ME, zone=BERLIN))
    assert changed(before, after) == [
        (
            ORGANIZER + "\r\n",
            'ORGANIZER;CN="Raman, Priya";SCHEDULE-AGENT=CLIENT:mailto:priya@corp.example\r\n',
        ),
        (
            ATTENDEE + "\r\n",
            (
                'ATTENDEE;CN="Doe: Jane; QA";ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED:mailto:j\r\n'
                " ane@example.com\r\n"
            ),
        ),
    ]
    assert DESCRIPTION in after and OTHER in after and "X-MICROSOFT-CDO-BUSYSTATUS:BUSY" in after


@pytest.mark.parametrize(
    "value", ["MAILTO:Jane@Example.COM", "mailto:J.DOE@alias.example", "j.doe@ALIAS.example"]
)
def test_alias_and_case_insensitive_address(value: str) -> None:
    """An alias of the user matches, whatever the case and whether `mailto:` is there."""
    text = single(attendee=f"ATTENDEE;PARTSTAT=TENTATIVE:{value}")
    after = put(decline(text, uid="iv-1", recurrence_id=None, addresses=ME, zone=BERLIN))
    assert f"ATTENDEE;PARTSTAT=DECLINED:{value}\r\n" in after


def test_rsvp_removed_and_quoted_params_kept() -> None:
    """RSVP goes; quoted values holding ",", ":" and ";" and other params stay as written."""
    line = 'ATTENDEE;RSVP=TRUE;CN="Doe, Jane: Eng";X-NOTE="a;b:c";CUTYPE=INDIVIDUAL:mailto:jane@example.com'
    after = put(
        decline(single(attendee=line), uid="iv-1", recurrence_id=None, addresses=ME, zone=BERLIN)
    )
    expected = 'ATTENDEE;CN="Doe, Jane: Eng";X-NOTE="a;b:c";CUTYPE=INDIVIDUAL;PARTSTAT=DECLINED:mailto:jane@example.com'
    assert expected in "".join(line.text + "\n" for line in split_lines(after))


def test_changed_line_refolds_without_splitting_utf8() -> None:
    """A rewritten long line is folded at 75 octets on character boundaries."""
    line = f'ATTENDEE;CN="{"Zoë Ñúñez 日本語 " * 6}";PARTSTAT=NEEDS-ACTION:mailto:jane@example.com'
    after = put(
        decline(single(attendee=line), uid="iv-1", recurrence_id=None, addresses=ME, zone=BERLIN)
    )
    mine = next(x.raw for x in split_lines(after) if "jane@" in x.raw)
    assert all(len(p.encode("utf-8")) <= 75 for p in mine.split("\r\n"))
    assert line.replace("NEEDS-ACTION", "DECLINED") in [x.text for x in split_lines(after)]


def test_already_declined_is_unchanged() -> None:
    """A declined attendee without RSVP and a client-scheduled ORGANIZER need no write."""
    text = single(
        attendee="ATTENDEE;PARTSTAT=declined:mailto:jane@example.com",
        organizer="ORGANIZER;SCHEDULE-AGENT=CLIENT:mailto:priya@corp.example",
    )
    edit = decline(text, uid="iv-1", recurrence_id=None, addresses=ME, zone=BERLIN)
    assert edit == Edit("unchanged")


def test_not_an_attendee_or_unknown_uid_is_absent() -> None:
    """The user not among the ATTENDEEs, or no VEVENT with the UID, is "absent"."""
    text = single()
    assert decline(
        text, uid="iv-1", recurrence_id=None, addresses=["x@y.example"], zone=BERLIN
    ) == Edit("absent")
    assert decline(text, uid="other", recurrence_id=None, addresses=ME, zone=BERLIN) == Edit(
        "absent"
    )
    assert remove(text, uid="other", recurrence_id=None, zone=BERLIN) == Edit("absent")


@pytest.mark.parametrize(
    ("instant", "wall"),
    [
        (datetime(2024, 3, 21, 9, 0, tzinfo=UTC), "20240321T100000"),  # CET, UTC+1
        (datetime(2024, 4, 4, 8, 0, tzinfo=UTC), "20240404T100000"),  # after DST: CEST, UTC+2
    ],
)
def test_decline_instance_creates_override(instant: datetime, wall: str) -> None:
    """An instance without override gets one: Berlin wall time, same length, no RRULE."""
    before = series()
    after = put(decline(before, uid="iv-1", recurrence_id=instant, addresses=ME, zone=BERLIN))
    assert after.startswith(before.removesuffix("END:VCALENDAR\r\n"))
    master, override = vevents(after)
    assert master == vevents(before)[0]
    assert override[3:6] == [
        f"DTSTART;TZID=Europe/Berlin:{wall}",
        f"RECURRENCE-ID;TZID=Europe/Berlin:{wall}",
        f"DTEND;TZID=Europe/Berlin:{wall[:9]}110000",
    ]
    assert not any(line.startswith("RRULE") for line in override)
    assert "ACTION:DISPLAY" in override and "PARTSTAT=DECLINED" in "".join(override)
    assert decline(after, uid="iv-1", recurrence_id=instant, addresses=ME, zone=BERLIN) == Edit(
        "unchanged"
    )


def test_decline_edits_existing_override() -> None:
    """An instance that has an override is declined there; no second override is added."""
    override = event(
        "RECURRENCE-ID:20240321T090000Z",
        "DTSTART;TZID=Europe/Berlin:20240321T150000",
        "DTEND;TZID=Europe/Berlin:20240321T160000",
        ORGANIZER,
        ATTENDEE,
    )
    before = series().replace("END:VCALENDAR", override.replace("\n", "\r\n") + "\r\nEND:VCALENDAR")
    instant = datetime(2024, 3, 21, 9, 0, tzinfo=UTC)
    after = put(decline(before, uid="iv-1", recurrence_id=instant, addresses=ME, zone=BERLIN))
    assert len(changed(before, after)) == 2
    assert "PARTSTAT=DECLINED" in "".join(vevents(after)[1]) and len(vevents(after)) == 2


def test_windows_zone_and_floating_recurrence_id_compare_by_instant() -> None:
    """A Windows TZID without VTIMEZONE and a floating RECURRENCE-ID match the UTC instant."""
    start = "DTSTART;TZID=W. Europe Standard Time:20240314T100000"
    floating = event(
        "RECURRENCE-ID:20240321T100000", start.replace("14T", "21T"), ORGANIZER, ATTENDEE
    )
    text = resource(master(start=start), floating, timezone=False)
    instant = datetime(2024, 3, 21, 9, 0, tzinfo=UTC)
    after = put(decline(text, uid="iv-1", recurrence_id=instant, addresses=ME, zone=BERLIN))
    assert "PARTSTAT=DECLINED" in "".join(vevents(after)[1]) and len(vevents(after)) == 2


def test_excluded_or_unknown_instance_is_absent() -> None:
    """An instance removed by EXDATE, or not in the series at all, is "absent"."""
    text = series("EXDATE;TZID=Europe/Berlin:20240321T100000")
    for instant in (
        datetime(2024, 3, 21, 9, 0, tzinfo=UTC),
        datetime(2024, 3, 22, 9, 0, tzinfo=UTC),
    ):
        assert decline(text, uid="iv-1", recurrence_id=instant, addresses=ME, zone=BERLIN) == Edit(
            "absent"
        )
        assert remove(text, uid="iv-1", recurrence_id=instant, zone=BERLIN) == Edit("absent")


def test_all_day_series_instance() -> None:
    """A date RECURRENCE-ID selects an all-day instance, written with VALUE=DATE."""
    text = series(start="DTSTART;VALUE=DATE:20240314").replace(
        "DTEND;VALUE=DATE:20240314", "DTEND;VALUE=DATE:20240315"
    )
    after = put(
        decline(text, uid="iv-1", recurrence_id=date(2024, 3, 28), addresses=ME, zone=BERLIN)
    )
    assert vevents(after)[1][3:6] == [
        "DTSTART;VALUE=DATE:20240328",
        "RECURRENCE-ID;VALUE=DATE:20240328",
        "DTEND;VALUE=DATE:20240329",
    ]
    removed = put(remove(text, uid="iv-1", recurrence_id=date(2024, 3, 28), zone=BERLIN))
    assert "RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;VALUE=DATE:20240328\r\n" in removed


def test_remove_whole_event_deletes_resource() -> None:
    """Removing the whole event (or series) deletes the resource."""
    assert remove(single(), uid="iv-1", recurrence_id=None, zone=BERLIN) == Edit("delete")
    assert remove(series(), uid="iv-1", recurrence_id=None, zone=BERLIN) == Edit("delete")


@pytest.mark.parametrize(
    ("start", "hour", "exdate"),
    [
        (
            "DTSTART;TZID=Europe/Berlin:20240314T100000",
            8,
            "EXDATE;TZID=Europe/Berlin:20240404T100000",
        ),
        ("DTSTART:20240314T090000Z", 9, "EXDATE:20240404T090000Z"),
        ("DTSTART:20240314T100000", 8, "EXDATE:20240404T100000"),  # floating: the account zone
    ],
)
def test_remove_instance_adds_exdate_in_master_form(start: str, hour: int, exdate: str) -> None:
    """Removing an instance adds an EXDATE in the form of the master's DTSTART, and marks the
    ORGANIZER client-scheduled so a scheduling server sends no reply of its own."""
    instant = datetime(2024, 4, 4, hour, 0, tzinfo=UTC)
    before = series(start=start)
    after = put(remove(before, uid="iv-1", recurrence_id=instant, zone=BERLIN))
    expected = before.replace("COUNT=10\r\n", f"COUNT=10\r\n{exdate}\r\n")
    assert after == expected.replace(ORGANIZER, CLIENT_SCHEDULED)


def test_remove_instance_drops_its_override() -> None:
    """Removing an overridden instance drops the override and excludes it on the master."""
    instant = datetime(2024, 4, 4, 8, 0, tzinfo=UTC)
    before = series()
    declined = put(decline(before, uid="iv-1", recurrence_id=instant, addresses=ME, zone=BERLIN))
    after = put(remove(declined, uid="iv-1", recurrence_id=instant, zone=BERLIN))
    exdate = "EXDATE;TZID=Europe/Berlin:20240404T100000\r\n"
    expected = before.replace("COUNT=10\r\n", f"COUNT=10\r\n{exdate}")
    assert after == expected.replace(ORGANIZER, CLIENT_SCHEDULED)


def test_remove_only_override_deletes_resource() -> None:
    """A resource holding only the instance's override is deleted; with others, it is cut."""
    one = event("RECURRENCE-ID;VALUE=DATE:20240321", "DTSTART;VALUE=DATE:20240321", ATTENDEE)
    two = one.replace("0321", "0328")
    assert remove(resource(one), uid="iv-1", recurrence_id=date(2024, 3, 21), zone=BERLIN) == Edit(
        "delete"
    )
    after = put(
        remove(resource(one, two), uid="iv-1", recurrence_id=date(2024, 3, 21), zone=BERLIN)
    )
    assert after == resource(two)


def test_lf_only_resource_keeps_lf() -> None:
    """A resource written with bare LF stays LF, also in rewritten and added lines."""
    before = series().replace("\r\n", "\n")
    instant = datetime(2024, 4, 4, 8, 0, tzinfo=UTC)
    after = put(decline(before, uid="iv-1", recurrence_id=instant, addresses=ME, zone=BERLIN))
    assert "\r" not in after and after.startswith(before.removesuffix("END:VCALENDAR\n"))
    assert "\r" not in put(remove(before, uid="iv-1", recurrence_id=instant, zone=BERLIN))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:iv-1\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
        "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        "BEGIN:VCALENDAR\r\n\x00\x01garbage;;;\r\nEND:VCALENDAR\r\n",
        resource(event("RECURRENCE-ID;TZID=Nowhere/City:20240321T100000", ATTENDEE)),
    ],
)
def test_malformed_text_raises_value_error(text: str) -> None:
    """Text that is no readable VCALENDAR raises ValueError, never another exception."""
    with pytest.raises(ValueError, match=r"\S"):
        decline(text, uid="iv-1", recurrence_id=date(2024, 3, 21), addresses=ME, zone=BERLIN)
    with pytest.raises(ValueError, match=r"\S"):
        remove(text, uid="iv-1", recurrence_id=date(2024, 3, 21), zone=BERLIN)


# No backslash and no caret: RFC 5545 parameter values have no escapes, but icalendar
# unescapes "\\," and RFC 6868's "^'" "^n" "^^" when it reads a CN back, so such a name
# would read back differently (the edit itself keeps the bytes as written).
_CN = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"\\^'),
    max_size=90,
)


@LONG
@settings(max_examples=examples(100))
@given(
    cn=_CN,
    address=st.sampled_from(["jane@example.com", "MAILTO:JANE@example.com", "j.doe@alias.example"]),
    partstat=st.sampled_from(["NEEDS-ACTION", "ACCEPTED", "TENTATIVE", "DECLINED"]),
    rsvp=st.booleans(),
    eol=st.sampled_from(["\r\n", "\n"]),
    week=st.none() | st.integers(0, 9),
)
def test_decline_output_reparses_and_is_idempotent(
    cn: str, address: str, partstat: str, rsvp: bool, eol: str, week: int | None
) -> None:
    """decline() output re-parses with icalendar, shows DECLINED, and a second decline is a no-op."""
    attendee = f'ATTENDEE;CN="{cn}";PARTSTAT={partstat}{";RSVP=TRUE" if rsvp else ""}:{address}'
    text = single(attendee=attendee) if week is None else series().replace(ATTENDEE, attendee)
    first = datetime(2024, 3, 14, 10, tzinfo=BERLIN)
    rid = None if week is None else (first + timedelta(weeks=week)).astimezone(UTC)
    after = put(
        decline(text.replace("\r\n", eol), uid="iv-1", recurrence_id=rid, addresses=ME, zone=BERLIN)
    )
    vevent = Calendar.from_ical(after).events[-1]
    mine = next(a for a in vevent.attendees if "bob" not in a)
    assert mine.params["PARTSTAT"] == "DECLINED" and "RSVP" not in mine.params
    assert mine.params.get("CN", "") == cn
    again = decline(after, uid="iv-1", recurrence_id=rid, addresses=ME, zone=BERLIN)
    assert again == Edit("unchanged")


@LONG
@settings(max_examples=examples(100))
@given(data=st.data())
def test_damaged_resource_raises_only_value_error(data: st.DataObject) -> None:
    """A resource damaged anywhere gives an Edit or a ValueError, never another exception."""
    text = data.draw(
        st.sampled_from([single(), series(), series(start="DTSTART;VALUE=DATE:20240314")])
    )
    start, length = data.draw(st.integers(0, len(text))), data.draw(st.integers(0, 8))
    pieces = st.sampled_from([*'\r\n :;"=,ZT09', "BEGIN:", "END:", "VEVENT"])
    junk = "".join(data.draw(st.lists(pieces, max_size=4)))
    damaged = text[:start] + junk + text[start + length :]
    rid = data.draw(
        st.sampled_from([None, date(2024, 3, 21), datetime(2024, 3, 21, 9, tzinfo=UTC)])
    )
    with contextlib.suppress(ValueError):
        decline(damaged, uid="iv-1", recurrence_id=rid, addresses=ME, zone=BERLIN)
    with contextlib.suppress(ValueError):
        remove(damaged, uid="iv-1", recurrence_id=rid, zone=BERLIN)
