"""Nothing in a message can make the parser raise: mutated and random bytes only get results."""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decliner.core.parse import ParsedInvite, Rejected, parse_calendar, parse_message

ME = ("jane.doe@example.com",)
# `make stress` runs 10,000 examples of each property (issue 17); `make test` a quick count.
STRESS = os.environ.get("HYPOTHESIS_PROFILE") == "stress"
LONG = pytest.mark.timeout(1800 if STRESS else 120)


def examples(quick: int) -> int:
    """How many examples a property runs: `quick` in `make test`, 10,000 in `make stress`."""
    return 10_000 if STRESS else quick


BERLIN = ZoneInfo("Europe/Berlin")

CALENDAR = """BEGIN:VCALENDAR
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:040000008200E00074C5B7101A82E00800000000
ORGANIZER;CN="Sam Recruiter":mailto:sam@acme.example
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Jane:mailto:jane.doe@example.com
SUMMARY;LANGUAGE=en-US:Interview – Acme
DTSTART;TZID="Customized Time Zone":20261203T100000
DTEND;TZID="(UTC-08:00) Pacific Time (US & Canada)":20261203T020000
RRULE:FREQ=WEEKLY;COUNT=2
RECURRENCE-ID;VALUE=DATE:20261203
DURATION:PT1H
SEQUENCE:1
LOCATION:Room 1
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")


def _message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sam <sam@acme.example>"
    msg["Subject"] = "Invitation: Interview"
    msg["Message-ID"] = "<f@acme.example>"
    msg.set_content("invite")
    msg.add_alternative(CALENDAR.encode(), "text", "calendar", params={"method": "REQUEST"})
    msg.add_attachment(CALENDAR.encode(), "application", "ics", filename="invite.ics")
    return msg.as_bytes()


MESSAGE = _message()
CORPUS = Path(__file__).parents[2] / "corpus" / "invites"
SEEDS = [MESSAGE, *(path.read_bytes() for path in sorted(CORPUS.glob("*.eml")))]
RESULT_TYPES = (ParsedInvite, Rejected, type(None))


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` with a few bytes replaced, deleted, inserted or lines swapped."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "line"]))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if kind == "replace":
            data[position : position + len(chunk)] = chunk
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[position:position] = chunk
        elif kind == "truncate":
            del data[position:]
        else:
            lines = bytes(data).split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(draw(st.integers(0, len(lines))), lines.pop(index))
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@LONG
@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS).flatmap(mutated))
def test_mutated_message_never_raises(raw: bytes) -> None:
    """A mutated invitation (ours or a corpus one) gives an invite, rejection or None."""
    assert isinstance(parse_message(raw, me=ME, default_tz=BERLIN), RESULT_TYPES)


@LONG
@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(CALENDAR.encode()))
def test_mutated_calendar_never_raises(raw: bytes) -> None:
    """A mutated Outlook calendar parses to events, a rejection or None, never raising."""
    result = parse_calendar(raw, me=ME, default_tz=BERLIN)
    assert result is None or isinstance(result, (tuple, Rejected))


@LONG
@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    """Arbitrary bytes are never an exception."""
    assert isinstance(parse_message(raw, me=ME, default_tz=BERLIN), RESULT_TYPES)


def test_the_seed_message_is_an_invite() -> None:
    """The message the mutations start from parses, so they exercise the deep paths."""
    result = parse_message(MESSAGE, me=ME, default_tz=BERLIN)
    assert isinstance(result, ParsedInvite), result
