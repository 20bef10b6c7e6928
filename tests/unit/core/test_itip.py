"""The iTIP REPLY (RFC 5546 3.2.3, RFC 6047) over real-world requests from the corpus."""

from __future__ import annotations

import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from decliner.core.letters.itip import decline_reply
from decliner.core.letters.render import RenderError, render_withdrawal
from decliner.core.parse import ParsedInvite, parse_calendar, parse_message, read_calendar
from decliner.core.parse.model import Address, normalise_email
from decliner.core.plan.events import EventRecord, record_from

CORPUS = Path(__file__).parents[2] / "corpus" / "invites"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 0, 7, tzinfo=UTC)
MY_ADDRESSES = ("jane.doe@example.com", "jdoe@example.org")
ME = Address("jane.doe@example.com", "Jane Doe")
CASES = ["01", "02", "05", "06", "10", "11", "25", "27", "29", "31", "37"]
COPIED = (
    "UID",
    "RECURRENCE-ID",
    "SEQUENCE",
    "DTSTART",
    "DTEND",
    "DURATION",
    "ORGANIZER",
    "SUMMARY",
)
# RFC 5546 3.2.3: what a VEVENT in a REPLY may hold; we emit no more than this.
ALLOWED = {*COPIED, "DTSTAMP", "ATTENDEE", "COMMENT"}


def records(prefix: str) -> list[EventRecord]:
    """Every event of one corpus invite, as the scanner would store it."""
    path = next(CORPUS.glob(f"{prefix}-*.eml"))
    parsed = parse_message(path.read_bytes(), me=MY_ADDRESSES, default_tz=BERLIN)
    assert isinstance(parsed, ParsedInvite)
    return [
        record_from(
            event_id="x",
            event=event,
            message=parsed.message,
            folder="INBOX",
            uid=1,
            ical=parsed.calendar_bytes,
        )
        for event in parsed.events
    ]


ALL = [
    pytest.param(record, id=f"{prefix}-{index}")
    for prefix in CASES
    for index, record in enumerate(records(prefix))
]


def request_vevent(record: EventRecord) -> Any:
    """The request's VEVENT for this record, found independently by RECURRENCE-ID text."""
    calendar = read_calendar(record.ical.encode())
    assert isinstance(calendar, Calendar)
    found = [
        c
        for c in calendar.subcomponents
        if c.name == "VEVENT"
        and str(c["UID"]) == record.uid
        and ("RECURRENCE-ID" in c) == bool(record.recurrence_id)
    ]
    assert len(found) == 1
    return found[0]


def reply_of(record: EventRecord, reason: str = "I have accepted another offer") -> Any:
    """The REPLY calendar, parsed back with icalendar."""
    raw = decline_reply(event=record, me=ME, reason=reason, now=NOW, zone=BERLIN)
    return Calendar.from_ical(raw)


def the_vevent(calendar: Calendar) -> Any:
    """The one VEVENT of a reply."""
    vevents = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    assert len(vevents) == 1
    return vevents[0]


def same_property(left: Any, right: Any) -> bool:
    """Equal value as written and equal parameters."""
    return bool(left.to_ical() == right.to_ical() and dict(left.params) == dict(right.params))


@pytest.mark.parametrize("record", ALL)
def test_reply_follows_rfc_5546(record: EventRecord) -> None:
    """METHOD:REPLY, one VEVENT, request properties verbatim, fresh DTSTAMP, one declined ATTENDEE."""
    calendar = reply_of(record)
    assert str(calendar["METHOD"]) == "REPLY"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    assert {c.name for c in calendar.subcomponents} <= {"VEVENT", "VTIMEZONE"}
    vevent = the_vevent(calendar)
    request = request_vevent(record)
    assert set(vevent.keys()) <= ALLOWED
    for name in COPIED:
        assert (name in vevent) == (name in request), name
        if name in request:
            assert same_property(vevent[name], request[name]), name
    assert str(vevent["UID"]) == record.uid
    assert ("RECURRENCE-ID" in vevent) == (record.recurrence_id != "")
    if int(request.get("SEQUENCE", 0)):
        assert int(vevent["SEQUENCE"]) == record.sequence == int(request["SEQUENCE"])
    assert vevent["DTSTAMP"].dt == NOW
    assert "ORGANIZER" in vevent
    assert not vevent.subcomponents  # no VALARM
    attendees = vevent.get("ATTENDEE")
    assert not isinstance(attendees, list)
    expected = record.attendee.email if record.attendee else ME.email
    assert normalise_email(str(attendees)) == expected
    assert attendees.params["PARTSTAT"] == "DECLINED"
    assert attendees.params["CN"] == "Jane Doe"
    assert "RSVP" not in attendees.params
    assert str(vevent["COMMENT"]) == "I have accepted another offer"


@pytest.mark.parametrize("record", ALL)
def test_reply_carries_exactly_the_used_vtimezones(record: EventRecord) -> None:
    """Every TZID the copied times use has its VTIMEZONE from the request, and no other."""
    calendar = reply_of(record)
    vevent = the_vevent(calendar)
    used = {
        str(vevent[name].params["TZID"])
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID")
        if name in vevent and "TZID" in vevent[name].params
    }
    request = read_calendar(record.ical.encode())
    assert isinstance(request, Calendar)
    offered = {str(c["TZID"]) for c in request.subcomponents if c.name == "VTIMEZONE"}
    copied = [str(c["TZID"]) for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    assert sorted(copied) == sorted(used & offered)
    for tzid in copied:
        original = next(c for c in request.subcomponents if c.get("TZID") == tzid)
        mine = next(c for c in calendar.subcomponents if c.get("TZID") == tzid)
        assert mine.to_ical() == original.to_ical()


@pytest.mark.parametrize("record", ALL)
def test_reply_times_resolve_to_the_same_instants(record: EventRecord) -> None:
    """Read back by decliner's own parser, the reply names the same start, end and instance."""
    raw = decline_reply(event=record, me=ME, reason="", now=NOW, zone=BERLIN)
    result = parse_calendar(
        raw.replace(b"METHOD:REPLY", b"METHOD:REQUEST"), me=MY_ADDRESSES, default_tz=BERLIN
    )
    assert isinstance(result, tuple)
    (event,) = result[1]
    assert (event.uid, event.start, event.end) == (record.uid, record.start, record.end)
    assert (event.recurrence_id.isoformat() if event.recurrence_id else "") == (
        record.recurrence_id
    )
    assert event.partstat == "DECLINED"


def test_series_with_override_declines_the_right_vevent() -> None:
    """In a master + override calendar, the instance reply copies the override, not the master."""
    master, instance = records("29")
    assert (master.recurrence_id, bool(instance.recurrence_id)) == ("", True)
    for record in (master, instance):
        vevent = the_vevent(reply_of(record))
        assert same_property(vevent["DTSTART"], request_vevent(record)["DTSTART"])
    instance_reply = the_vevent(reply_of(instance))
    assert instance_reply["RECURRENCE-ID"].to_ical() == b"20270114T090000"
    assert instance_reply["DTSTART"].to_ical() == b"20270115T110000"
    assert "RECURRENCE-ID" not in the_vevent(reply_of(master))


def test_alias_attendee_is_named_as_the_invite_wrote_it() -> None:
    """The user's ATTENDEE keeps the invite's spelling (an alias in mixed case)."""
    (record,) = records("31")
    attendee = the_vevent(reply_of(record))["ATTENDEE"]
    assert str(attendee) == "MAILTO:JDoe@Example.ORG"


def test_user_not_listed_falls_back_to_my_address() -> None:
    """A forwarded invite that does not list the user declines as the account address."""
    (record,) = records("37")
    assert record.attendee is None
    assert str(the_vevent(reply_of(record))["ATTENDEE"]) == "mailto:jane.doe@example.com"


def test_no_comment_without_a_reason_and_text_is_escaped() -> None:
    """COMMENT appears only with a reason, and a reason's commas and newlines survive."""
    record = records("01")[0]
    assert "COMMENT" not in the_vevent(reply_of(record, reason=""))
    vevent = the_vevent(reply_of(record, reason="Moved; new city,\r\nnew job"))
    assert str(vevent["COMMENT"]) == "Moved; new city, new job"


def test_missing_instance_or_unreadable_calendar_is_a_render_error() -> None:
    """A record whose VEVENT is not in its calendar, or a broken calendar, is a RenderError."""
    record = records("01")[0]
    with pytest.raises(RenderError, match="no VEVENT"):
        decline_reply(
            event=replace(record, recurrence_id="2026-12-10T15:00:00+00:00"),
            me=ME,
            reason="",
            now=NOW,
            zone=BERLIN,
        )
    with pytest.raises(RenderError, match="cannot be read"):
        decline_reply(
            event=replace(record, ical="BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"),
            me=ME,
            reason="",
            now=NOW,
            zone=BERLIN,
        )


@pytest.mark.parametrize("prefix", ["01", "10", "29"])
def test_thunderbird_mime_layout(prefix: str) -> None:
    """mixed( alternative( text/plain, text/calendar;method=REPLY ), invite.ics attachment )."""
    record = records(prefix)[-1]
    rendered = render_withdrawal(
        event=record,
        me=ME,
        recipient=record.organizer or ME,
        cc=(),
        reason="",
        offer_help=True,
        keep_in_touch=True,
        short_notice=False,
        now=NOW,
        zone=BERLIN,
        token="t1",
        attach_decline=True,
    )
    message = BytesParser(policy=email.policy.strict).parsebytes(rendered.raw)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, calendar = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "REPLY"
    assert str(calendar.get_param("charset")) == "UTF-8"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_param("name") == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == calendar.get_content().encode()
    for part in message.walk():
        assert ("MIME-Version" in part) == (part is message)
    assert Calendar.from_ical(attachment.get_content())["METHOD"] == "REPLY"
