"""What the fuzz tests share: how many examples `make test` and `make stress` run, and an
Outlook calendar with the byte-level mutations that start from it."""

from __future__ import annotations

import os

import pytest
from hypothesis import strategies as st

# `make stress` runs 10,000 examples of each property (issue 17); `make test` a quick count.
STRESS = os.environ.get("HYPOTHESIS_PROFILE") == "stress"


LONG = pytest.mark.timeout(1800 if STRESS else 120)


def examples(quick: int) -> int:
    """How many examples a property runs: `quick` in `make test`, 10,000 in `make stress`."""
    return 10_000 if STRESS else quick


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
