"""Header injection: the payloads, invitations that carry one in every header field an
invitation has, and what a safe letter looks like (exactly its headers and recipients, no
defect, the body whole, the attached REPLY declining and nothing more)."""

from __future__ import annotations

import base64
import email
import email.policy
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.utils import getaddresses
from zoneinfo import ZoneInfo

import icalendar

from decliner.core.parse.model import Address
from tests.testbed.world import SOON

INJECTIONS = [
    "Interview\r\nBcc: evil@attacker.example",
    "Interview\nX-Injected: yes",
    "Interview\u2028Bcc: evil@attacker.example",
    "Interview\x85Bcc: evil@attacker.example",
    "=?utf-8?q?Interview=0D=0ABcc=3A_evil=40attacker=2Eexample?=",
]


EVIL = "evil@attacker.example"


# An encoded word inside one: decoded once, what is left holds a space ("_" decodes to it).
NESTED_WORD = (
    "=?utf-8?q?=3D=3Futf-8=3Fq=3FInterview=3D0D=3D0ABcc=3D3A_evil=3D40attacker.example=3F=3D?="
)


NUL_PAYLOAD = f"Interview\x00Bcc: {EVIL}"


_LONG_WORDS = " ".join(["word"] * 300)


# Every payload tries to end the header it lands in and start another (or a second
# recipient, or the body, or a second SMTP transaction); INJECTIONS comes first.
PAYLOADS: list[str] = [
    *INJECTIONS,
    f"Interview\rBcc: {EVIL}",  # a bare CR
    "Interview\u2029X-Injected: yes",
    NUL_PAYLOAD,
    f"Interview\x0bBcc: {EVIL}",  # VT
    f"Interview\x0cBcc: {EVIL}",  # FF
    "Interview\x1cX-Injected: yes",  # FS, which str.splitlines() breaks at
    "Interview\x1eX-Injected: yes",  # RS
    f"Interview\x85\u2028\r\nTo: {EVIL}",
    "Interview\r\n\r\nX-Injected: body-split",  # an empty line would end the header
    f"Interview\r\n Bcc: {EVIL}",  # folding whitespace
    "Interview\r\n\tX-Injected: yes",
    "Interview " + "x" * 1000 + f"\r\nBcc: {EVIL}",  # an unbreakable line over 998
    f"Interview {_LONG_WORDS} Bcc: {EVIL}",  # a long line that folds
    "=?utf-8?b?" + base64.b64encode(f"Interview\r\nBcc: {EVIL}".encode()).decode() + "?=",
    NESTED_WORD,
    f"=?iso-8859-1?q?Interview=0ABcc:_{EVIL}?=",
    f"=?utf-8?q?Interview?= =?utf-8?q?=0D=0A?= =?utf-8?q?Bcc:_{EVIL}?=",  # split across words
    "=?utf-8?b?" + base64.b64encode(f"\x00\r\nBcc: {EVIL}".encode()).decode() + "?=",
    f'"Sam" <{EVIL}>',  # quotes and angle brackets, as in a display name
    f"Sam <{EVIL}>, Bob <bob@attacker.example>",
    f'Sam", {EVIL}, "x',
    f'Sam\\" <{EVIL}>',
    EVIL,  # a name that is an address
    f"Sam (comment) <{EVIL}>;",
    "Interview\r\nContent-Type: text/html\r\n\r\n<script>evil()</script>",
    "Interview\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=evil",
    f"Interview\r\nReply-To: {EVIL}",
    f"Interview\r\n.\r\nMAIL FROM:<{EVIL}>\r\nRCPT TO:<{EVIL}>",  # SMTP smuggling
    f"Interview\n.\nRCPT TO:<{EVIL}>",
    f"Interview%0D%0ABcc: {EVIL}",  # URL-encoded: must stay literal text
    f"Interview\\r\\nBcc: {EVIL}",  # escaped in the source: must stay literal text
    f"Interview\u200b\u202eBcc\u00a0: {EVIL}",  # zero-width and bidi controls
    f"Re: AW: Interview\r\nBcc: {EVIL}",
    "Interview 🎉\r\nX-Injected: yes",
]
assert len(PAYLOADS) >= 30


# Payloads a letter cannot be written with (RenderError: never sent). None since the nested
# encoded word is decoded to its end (test_nested_encoded_word_is_cleaned_and_the_letter_sent).
REFUSED: set[str] = set()


# Header names that may appear; anything else (Bcc, X-Injected, Reply-To, ...) is injected.
WITHDRAWAL_HEADERS = [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
]


FOLLOWUP_HEADERS = [*WITHDRAWAL_HEADERS, "content-transfer-encoding"]


# The built-in withdrawal's closing in each language: the letter reached its end intact.
CLOSINGS = {
    "en": "Best regards,",
    "de": "Mit freundlichen Grüßen",
    "fr": "Bien cordialement,",
    "es": "Saludos cordiales,",
    "it": "Cordiali saluti,",
    "nl": "Met vriendelijke groet,",
    "pt": "Com os melhores cumprimentos,",
}


# The content lines a REPLY may hold: any other name was smuggled in by a value.
ICS_NAMES = {
    *("BEGIN", "END", "VERSION", "PRODID", "METHOD", "UID", "DTSTAMP", "DTSTART", "DTEND"),
    *("SEQUENCE", "ORGANIZER", "SUMMARY", "ATTENDEE", "COMMENT", "RECURRENCE-ID"),
}


BERLIN = ZoneInfo("Europe/Berlin")


NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


JANE = Address("jane@example.com", "Jane Doe")


SAM = "sam@acme.example"


ROBOT = "noreply@acme.example"


def ics_text(value: str) -> str:
    """`value` as an iCalendar TEXT value (RFC 5545 3.3.11); other controls stay raw."""
    out = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return out.replace("\r\n", "\\n").replace("\n", "\\n")


def ics_param(value: str) -> str:
    """`value` as a quoted parameter value: line breaks and quotes in RFC 6868's ^ escapes, other
    C0 controls as spaces (a raw one makes the whole invitation unreadable, and it is skipped)."""
    out = value.replace("^", "^^").replace('"', "^'")
    out = re.sub("\r\n|\r|\n", "^n", out)
    return '"' + re.sub("[\x00-\x1f\x7f]", " ", out) + '"'


def request_calendar(*, uid: str, payload: str, organizer: str, me: str) -> str:
    """A METHOD:REQUEST with `payload` in SUMMARY, LOCATION and the organizer's CN."""
    start = SOON.strftime("%Y%m%dT%H%M%SZ")
    end = (SOON + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Acme//Security//EN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261120T000000Z",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{ics_text(payload)}",
        f"LOCATION:{ics_text(payload)}",
        f"ORGANIZER;CN={ics_param(payload)}:mailto:{organizer}",
        f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{me}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines)


def header_text(value: str) -> str:
    """`value` as a header would carry it: as is when printable ASCII, else RFC 2047 words."""
    if all(" " <= c <= "~" for c in value) and len(value) < 900:
        return value
    return Header(value, "utf-8").encode()


@dataclass(frozen=True)
class Case:
    """One invitation: which payload, and which header fields it travels in."""

    index: int
    payload: str
    in_subject: bool  # the invite's Subject (else no Subject: the SUMMARY becomes it)
    robot: bool  # a robot organizer, so the letter goes to Reply-To (its name the payload)

    @property
    def message_id(self) -> str:
        return f"<inj-{self.index}@acme.example>"

    @property
    def uid(self) -> str:
        return f"inj-{self.index}@acme.example"


def invite_bytes(case: Case, sam: str, jane: str) -> bytes:
    """The invitation: the calendar base64-encoded, so raw controls survive the transfer."""
    organizer = ROBOT if case.robot else sam
    ics = request_calendar(uid=case.uid, payload=case.payload, organizer=organizer, me=jane)
    headers = [f"From: Acme Calendar <{ROBOT}>" if case.robot else f"From: Sam <{sam}>"]
    headers.append(f"To: {jane}")
    if case.robot:
        headers.append(f"Reply-To: {Header(case.payload, 'utf-8').encode()} <{sam}>")
    if case.in_subject:
        headers.append(f"Subject: {header_text(case.payload)}")
    headers += [
        f"Message-ID: {case.message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/calendar; charset=UTF-8; method=REQUEST",
        "Content-Transfer-Encoding: base64",
    ]
    body = base64.encodebytes(ics.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("ascii")


def toml_string(value: str) -> str:
    r"""`value` as a TOML basic string, every non-printable character \u-escaped."""
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif " " <= c <= "~":
            out.append(c)
        elif ord(c) > 0xFFFF:
            out.append(f"\\U{ord(c):08X}")
        else:
            out.append(f"\\u{ord(c):04X}")
    return '"' + "".join(out) + '"'


_STRICT = email.policy.default.clone(raise_on_defect=True)


def _no_controls(text: str) -> bool:
    """No C0/C1 control and no line or paragraph separator."""
    return not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


def assert_safe(
    raw: bytes,
    *,
    to: str,
    cc: Sequence[str] = (),
    rcpt: Sequence[str] | None = None,
    closing: str | None = None,
    headers: Sequence[str] = WITHDRAWAL_HEADERS,
) -> EmailMessage:
    """`raw` has exactly the expected headers and recipients, parses without a defect, and its
    text body is whole (it ends with the closing and the signature)."""
    head, blank, _ = raw.partition(b"\r\n\r\n")
    assert b"\x00" not in head
    assert blank, "no end of header"
    lines = head.split(b"\r\n")
    for line in lines:
        assert line.isascii() and b"\r" not in line and b"\n" not in line, line[:80]
        assert 0 < len(line) <= 998, line[:80]
    names = [ln.split(b":", 1)[0].decode().lower() for ln in lines if ln[:1] not in (b" ", b"\t")]
    assert sorted(names) == sorted(headers)
    message = email.message_from_bytes(raw, policy=_STRICT)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    for name, value in message.items():
        assert not getattr(value, "defects", ()), (name, value)
        assert _no_controls(str(value)), (name, str(value))
    assert [a.lower() for _, a in getaddresses(message.get_all("To", []))] == [to]
    assert [a.lower() for _, a in getaddresses(message.get_all("Cc", []))] == list(cc)
    assert message["Bcc"] is None
    if rcpt is not None:
        assert sorted(r.lower() for r in rcpt) == sorted([to, *cc])
    part = message.get_body(("plain",))
    assert part is not None
    body = str(part.get_content()).replace("\r\n", "\n")
    assert _no_controls(body.replace("\n", "").replace("\t", "")), body
    if closing is not None:
        assert closing in body and body.rstrip().endswith("Jane Doe"), body[-200:]
    for sub in message.walk():
        if sub.get_content_type() == "text/calendar":
            assert_decline(str(sub.get_content()))
    return message


def assert_decline(text: str) -> None:
    """The attached REPLY parses to one VEVENT with one ATTENDEE, DECLINED; no line of it
    breaks early (no bare CR or LF), so no value can add a property."""
    assert "\r" not in text.replace("\r\n", "") and "\n" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    names = {re.split("[;:]", line, maxsplit=1)[0] for line in unfolded.split("\r\n") if line}
    assert names <= ICS_NAMES, names - ICS_NAMES
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar["METHOD"] == "REPLY"
    [event] = calendar.walk("VEVENT")
    assert not isinstance(event["ATTENDEE"], list)
    assert event["ATTENDEE"].params["PARTSTAT"] == "DECLINED"


VARIANTS = ((True, False), (True, True), (False, True), (False, False))
