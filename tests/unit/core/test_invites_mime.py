"""Message shapes: where the calendar hides in real MIME, and how the headers decode."""

from __future__ import annotations

import base64
import binascii
import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from decliner.core.parse import (
    ParsedInvite,
    Rejected,
    decode_part,
    find_calendar_parts,
    parse_headers,
    parse_message,
    parse_parts,
)

ME = ("jane.doe@example.com", "jdoe@example.org")
BERLIN = ZoneInfo("Europe/Berlin")

CALENDAR = """BEGIN:VCALENDAR\r
PRODID:-//test//EN\r
VERSION:2.0\r
METHOD:REQUEST\r
BEGIN:VEVENT\r
UID:mime-1@test\r
DTSTAMP:20261101T120000Z\r
DTSTART:20261203T150000Z\r
DTEND:20261203T160000Z\r
ORGANIZER;CN=Sam Recruiter:mailto:sam@acme.example\r
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:jane.doe@example.com\r
SUMMARY:Entretien – Café Acme\r
END:VEVENT\r
END:VCALENDAR\r
"""
HEADERS = (
    "From: Sam Recruiter <sam@acme.example>\r\n"
    "To: jane.doe@example.com\r\n"
    "Subject: Invitation: Interview\r\n"
    "Message-ID: <inv-1@acme.example>\r\n"
    "Date: Fri, 20 Nov 2026 15:15:12 +0100\r\n"
    "MIME-Version: 1.0\r\n"
)


def parse(raw: bytes) -> ParsedInvite | Rejected | None:
    """Parse a whole message as the test user."""
    return parse_message(raw, me=ME, default_tz=BERLIN)


def invite(raw: bytes) -> ParsedInvite:
    """A message that must parse as an invitation."""
    result = parse(raw)
    assert isinstance(result, ParsedInvite), result
    return result


def message(raw: bytes) -> EmailMessage:
    """Bytes as the EmailMessage the email package builds."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_bare_text_calendar() -> None:
    """A message whose whole body is text/calendar is an invitation."""
    raw = (
        HEADERS
        + "Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n"
        + "Content-Transfer-Encoding: 8bit\r\n\r\n"
        + CALENDAR
    ).encode()
    result = invite(raw)
    assert result.method == "REQUEST"
    assert result.events[0].summary == "Entretien – Café Acme"
    assert result.calendar_bytes == CALENDAR.encode()


def test_exchange_alternative_quoted_printable() -> None:
    """Exchange's multipart/alternative with a quoted-printable text/calendar part is decoded."""
    qp = binascii.b2a_qp(CALENDAR.encode(), istext=False).decode("ascii")
    raw = (
        HEADERS
        + 'Content-Type: multipart/alternative; boundary="_000_"\r\n\r\n'
        + "--_000_\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + "Content-Transfer-Encoding: quoted-printable\r\n\r\nWhen: Thursday\r\n"
        + '--_000_\r\nContent-Type: text/calendar; charset="utf-8"; method=REQUEST\r\n'
        + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        + qp
        + "\r\n--_000_--\r\n"
    ).encode()
    assert "=C3=A9" in qp
    assert invite(raw).events[0].summary == "Entretien – Café Acme"


def google_message() -> bytes:
    """Google's shape: mixed > (alternative: plain, html, calendar) + invite.ics base64."""
    msg = EmailMessage()
    msg["From"] = "Sam Recruiter <sam@acme.example>"
    msg["Subject"] = "Invitation: Interview"
    msg["Message-ID"] = "<g-1@google.example>"
    msg.set_content("Sam has invited you")
    msg.add_alternative("<p>Sam has invited you</p>", subtype="html")
    msg.add_alternative(CALENDAR.encode(), "text", "calendar", params={"method": "REQUEST"})
    msg.add_attachment(CALENDAR.encode(), "application", "ics", filename="invite.ics")
    return msg.as_bytes()


def test_google_duplicate_ics_is_ignored() -> None:
    """Google's invite.ics attachment repeating the text/calendar part counts once."""
    raw = google_message()
    assert b"Content-Type: application/ics" in raw
    assert find_calendar_parts(message(raw)) == [CALENDAR.encode()]
    assert invite(raw).message.message_id == "<g-1@google.example>"


def test_octet_stream_ics_attachment() -> None:
    """An .ics attachment sent as application/octet-stream is an invitation."""
    msg = EmailMessage()
    msg["From"] = "sam@acme.example"
    msg.set_content("see attached")
    msg.add_attachment(CALENDAR.encode(), "application", "octet-stream", filename="Invite.ICS")
    assert invite(msg.as_bytes()).events[0].uid == "mime-1@test"


def test_latin1_calendar_part() -> None:
    """A text/calendar part in ISO-8859-1 is decoded by its charset and re-encoded as UTF-8."""
    body = CALENDAR.replace("Entretien – ", "").encode("latin-1")
    raw = (
        HEADERS.encode()
        + b"Content-Type: text/calendar; charset=iso-8859-1; method=REQUEST\r\n"
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + body
    )
    result = invite(raw)
    assert result.events[0].summary == "Café Acme"
    assert "Café".encode() in result.calendar_bytes


def test_declared_utf8_but_invalid_bytes() -> None:
    """A part declared UTF-8 holding invalid bytes is an "encoding" rejection."""
    body = CALENDAR.replace("Entretien – ", "").encode("latin-1")
    raw = (
        HEADERS.encode()
        + b"Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n"
        + body
    )
    result = parse(raw)
    assert isinstance(result, Rejected)
    assert result.reason == "encoding"


def test_calendar_quoted_in_plain_text_is_no_invite() -> None:
    """A text/plain mail that merely contains BEGIN:VCALENDAR is not an invitation."""
    raw = (HEADERS + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + CALENDAR).encode()
    assert parse(raw) is None


def test_plain_mail_is_no_invite() -> None:
    """An ordinary message has no calendar parts and is not an invitation."""
    assert parse((HEADERS + "\r\nHello Jane\r\n").encode()) is None


def test_headers_decoded() -> None:
    """RFC 2047 subjects, Reply-To, References, In-Reply-To and Date are decoded."""
    raw = (
        b"From: =?utf-8?q?S=C3=A1m?= <Sam@Acme.Example>\r\n"
        b"Reply-To: Recruiting <jobs@acme.example>\r\n"
        b"Subject: =?utf-8?q?Vorstellungsgespr=C3=A4ch?=\r\n =?utf-8?q?_bei_Acme=C2=A0!?=\r\n"
        b"Message-ID:  <m1@acme.example> \r\n"
        b"In-Reply-To: <m0@acme.example>\r\n"
        b"References: <a@x> <m0@acme.example>\r\n"
        b"Date: Fri, 20 Nov 2026 15:15:12 +0100\r\n\r\n"
    )
    headers = parse_headers(raw)
    assert headers.subject == "Vorstellungsgespräch bei Acme\u00a0!"  # no-break space kept
    assert headers.from_ is not None
    assert (headers.from_.email, headers.from_.name) == ("sam@acme.example", "Sám")
    assert headers.reply_to is not None
    assert headers.reply_to.email == "jobs@acme.example"
    assert headers.message_id == "<m1@acme.example>"
    assert headers.in_reply_to == "<m0@acme.example>"
    assert headers.references == ("<a@x>", "<m0@acme.example>")
    assert headers.date == datetime(2026, 11, 20, 14, 15, 12, tzinfo=UTC)


def test_junk_headers_do_not_raise() -> None:
    """A malformed From, Date and an encoded newline in the Subject never raise."""
    raw = (
        b'From: <<<@@>>> "unterminated\r\n'
        b"Reply-To: ,,,;;\r\n"
        b"Date: the day after tomorrow\r\n"
        b"Subject: =?utf-8?q?Hi=0D=0ABcc=3A_x=40y?=\r\n\r\n"
    )
    headers = parse_headers(raw)
    assert (headers.from_, headers.reply_to, headers.date) == (None, None, None)
    assert "\n" not in headers.subject
    assert "\r" not in headers.subject


def test_parts_fetched_separately() -> None:
    """The IMAP path: header bytes plus a base64 part decoded by decode_part parse alike."""
    body = base64.encodebytes(CALENDAR.encode())
    part = decode_part(body, transfer_encoding="BASE64", charset="UTF-8")
    result = parse_parts(HEADERS.encode() + b"\r\n", [part], me=ME, default_tz=BERLIN)
    assert isinstance(result, ParsedInvite)
    assert result.message.subject == "Invitation: Interview"
    assert result.events[0].start == datetime(2026, 12, 3, 15, tzinfo=UTC)


def test_decode_part_charsets() -> None:
    """decode_part re-encodes declared charsets and passes UTF-8 and unknown ones through."""
    assert decode_part(b"caf=E9", transfer_encoding="quoted-printable", charset="latin-1") == (
        "café".encode()
    )
    assert decode_part(b"caf\xc3\xa9", charset="utf-8") == "café".encode()
    assert decode_part(b"caf\xe9", charset="x-unknown") == b"caf\xe9"
