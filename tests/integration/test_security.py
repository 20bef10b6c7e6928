"""Security (issue 17, item 5): header injection in every language, the template sandbox,
file modes, and the CANARY secret, against the real Dovecot and aiosmtpd test bed.

Header injection runs twice. End to end, every payload is one invitation in Dovecot, in
each of the seven languages, sent by `run --once` to aiosmtpd (its fields rotate: Subject
or SUMMARY, organizer CN or Reply-To name). Through `render_withdrawal`/`render_followup`
(the pure functions that build the bytes decliner stores and sends), every payload also
goes into every field combination, the custom-template Subject and the follow-up.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import sqlite3
import stat
import subprocess
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from decliner.core.letters.headers import RenderError, TemplateProblem
from decliner.core.letters.languages import LANGUAGES
from decliner.core.letters.render import Rendered, render_followup, render_withdrawal
from decliner.core.letters.templating import context, fill, sample_event
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, Invite
from tests.testbed.dovecot import Account
from tests.testbed.helpers import config_text, load_config
from tests.testbed.injection import INJECTIONS
from tests.testbed.world import SOON, World

pytestmark = pytest.mark.servers

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


# -- building invitations that carry a payload ------------------------------------------


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
    """`value` as a TOML basic string, every non-printable character \\u-escaped."""
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


# -- what a safe message looks like --------------------------------------------------------

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


# -- 1. header injection: the whole cross product through the renderer ---------------------


def payload_event(case: Case) -> EventRecord:
    """The event decliner would store from `case`'s invitation (built by hand, as read)."""
    organizer = Address(ROBOT if case.robot else SAM, case.payload)
    start = NOW + timedelta(days=9)
    reply_to = Address(SAM, case.payload) if case.robot else None
    return EventRecord(
        id=f"inj{case.index}",
        uid=case.uid,
        recurrence_id="",
        sequence=0,
        summary=case.payload,
        start=start,
        end=start + timedelta(hours=1),
        all_day=False,
        location=case.payload,
        description="",
        rrule="",
        interview=True,
        organizer=organizer,
        attendee=JANE,
        other_attendees=(),
        invite=Invite(
            "INBOX",
            case.index + 1,
            case.message_id,
            case.payload if case.in_subject else "",
            (),
            organizer,
            reply_to,
        ),
        calendar=request_calendar(
            uid=case.uid, payload=case.payload, organizer=organizer.email, me=JANE.email
        ).replace(SOON.strftime("%Y%m%dT%H%M%SZ"), start.strftime("%Y%m%dT%H%M%SZ")),
        cancelled_by_organizer=False,
    )


# A custom template that puts every variable a message can fill into the Subject.
HEADER_TEMPLATE = (
    "Subject: {{ company }} | {{ event.summary }} | {{ event.location }} | {{ reason }}"
    " | {{ recipient.name }} | {{ event.organizer.name }}\n"
    "\n"
    "Hello {{ recipient.name }}, about {{ event.summary }} at {{ company }}: {{ reason }}\n"
    "\n"
    "Jane Doe\n",
    "header-template.j2",
)


_VARIANTS = ((True, False), (True, True), (False, True), (False, False))


def cases(language: str) -> Iterator[Case]:
    """Each payload twice, in complementary variants: once in the invite's Subject and once in
    the SUMMARY standing in for it, once to the organizer and once to Reply-To (which two of
    the four rotates with the language, so the seven languages run all four)."""
    shift = LANGUAGES.index(language)
    for index, payload in enumerate(PAYLOADS):
        for step in (0, 2):
            in_subject, robot = _VARIANTS[(index + shift + step) % 4]
            yield Case(index, payload, in_subject, robot)


def withdrawal(case: Case, language: str, template: tuple[str, str] | None = None) -> Rendered:
    """The withdrawal for `case`'s event, the payload also its reason and recipient's name."""
    return render_withdrawal(
        event=payload_event(case),
        me=JANE,
        recipient=Address(SAM, case.payload),  # the organizer's CN, or Reply-To's name
        cc=[],
        reason=case.payload,
        offer_help=True,
        keep_in_touch=True,
        short_notice=False,
        now=NOW,
        zone=BERLIN,
        token=f"sec{case.index}",
        attach_decline=True,
        language=language,
        template=template,
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_render_cross_product_adds_no_header_or_recipient(language: str) -> None:
    """Every payload x {invite Subject, SUMMARY as subject} x {organizer CN, Reply-To name},
    also as the reason, location and (custom template) company, through render_withdrawal
    and render_followup: exactly the intended headers and recipient and a whole body, or a
    RenderError (refused, never sent), which only the payloads in REFUSED get."""
    refused: set[str] = set()
    company_reached = 0
    for case in cases(language):
        try:
            sent = withdrawal(case, language)
        except RenderError:
            refused.add(case.payload)
            continue
        assert_safe(sent.raw, to=SAM, closing=CLOSINGS[language])
        assert sent.to == (SAM,) and sent.cc == ()
        custom = withdrawal(case, language, template=HEADER_TEMPLATE)
        message = assert_safe(custom.raw, to=SAM)
        company_reached += bool(str(message["Subject"]).split("|")[0].strip())
        followup = render_followup(
            event=payload_event(case),
            me=JANE,
            recipient=Address(SAM, case.payload),
            cc=[],
            in_reply_to=f"<sec{case.index}@example.com>",
            references=[case.message_id, f"<sec{case.index}@example.com>"],
            withdrawal_date=NOW,
            withdrawal_subject=sent.subject,
            replied=False,
            now=NOW + timedelta(days=1),
            zone=BERLIN,
            token=f"fu{case.index}",
            reason=case.payload,
            language=language,
        )
        assert_safe(followup.raw, to=SAM, closing=CLOSINGS[language], headers=FOLLOWUP_HEADERS)
    assert refused == REFUSED
    assert company_reached > 0


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_an_address_is_refused_or_harmless(payload: str) -> None:
    """A payload inside the recipient's or a Cc address (a [[cancel]].to, an organizer) is a
    RenderError, or leaves exactly that one plain address: never a second recipient."""
    case = Case(0, "Interview", in_subject=True, robot=False)
    for recipient, cc in (
        (Address(f"sam{payload}@acme.example"), []),
        (Address(payload), []),
        (Address(SAM), [Address(payload)]),
    ):
        try:
            sent = render_withdrawal(
                event=payload_event(case),
                me=JANE,
                recipient=recipient,
                cc=cc,
                reason="",
                offer_help=True,
                keep_in_touch=True,
                short_notice=False,
                now=NOW,
                zone=BERLIN,
                token="addr",
                attach_decline=True,
            )
        except RenderError:
            continue
        assert sent.to == (recipient.email,)
        assert sent.cc == tuple(a.email for a in cc if a.email != recipient.email)
        names = [*WITHDRAWAL_HEADERS, *(["cc"] if sent.cc else [])]
        assert_safe(sent.raw, to=sent.to[0], cc=sent.cc, closing=CLOSINGS["en"], headers=names)


# -- 1. header injection end to end: every payload, every language, real servers -----------


def state_config(world: World, *, account: str = "", extra: str = "", password: str = "") -> Path:
    """Jane's config with the state db alone in `state/` (config.toml, which holds the
    password, stays outside it); `password` replaces the IMAP password."""
    text = config_text(
        world.dovecot,
        world.jane,
        world.tmp,
        smtp_port=world.smtp.plain.port,
        account_extra=account,
        extra=f'[withdrawal]\ngrace = "0"\n{extra}',
    ).replace(str(world.tmp / "state.db"), str(world.tmp / "state" / "decliner.db"))
    if password:
        text = text.replace(world.jane.password, password)
    return load_config(text, world.tmp).source


def e2e_cases(language: str) -> list[Case]:
    shift = LANGUAGES.index(language)
    return [
        Case(index, payload, *_VARIANTS[(index + shift) % 4])
        for index, payload in enumerate(PAYLOADS)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_payload_end_to_end_in_every_language(world: World, language: str) -> None:
    """Every payload in one invitation each (Subject or SUMMARY, organizer CN or Reply-To name,
    LOCATION, [[cancel]].reason), one `run --once`: each message aiosmtpd gets has exactly its
    headers, one envelope recipient (Sam) matching To, and the whole letter; even invitations
    in account.language (`language`), odd ones in the next language by [[cancel]].language."""
    following = LANGUAGES[(LANGUAGES.index(language) + 1) % len(LANGUAGES)]
    cases = e2e_cases(language)
    rules = []
    for case in cases:
        raw = invite_bytes(case, world.sam.address, world.jane.address)
        world.dovecot.append(world.jane, "INBOX", raw)
        own = f'language = "{following}"\n' if case.index % 2 else ""
        reason = toml_string(case.payload)
        rules.append(f'[[cancel]]\nuid = "{case.uid}"\nreason = {reason}\n{own}')
    state_config(world, account=f'language = "{language}"', extra="\n".join(rules))
    result = world.cli("run", "--once")
    assert result.exit_code == (1 if REFUSED else 0), result.output
    assert result.output.count("cannot be written") == len(REFUSED)
    records = [m for m in world.smtp.plain.messages if m.mail_from == world.jane.address]
    expected = {c.message_id: c for c in cases if c.payload not in REFUSED}
    assert len(records) == len(expected)
    for record in records:
        parsed = email.message_from_bytes(record.data, policy=email.policy.default)
        case = expected.pop(str(parsed["In-Reply-To"]))
        closing = CLOSINGS[following if case.index % 2 else language]
        to = world.sam.address
        message = assert_safe(record.data, to=to, rcpt=record.rcpt_tos, closing=closing)
        if "attacker" in case.payload:  # the payload did reach the Subject, defused
            assert "attacker" in str(message["Subject"])
    assert not expected
    assert len(world.received(world.sam)) == len(records)  # delivered to Sam, and no one else


# -- bugs the payloads found, fixed ---------------------------------------------------------


def test_nested_encoded_word_is_cleaned_and_the_letter_sent() -> None:
    """A doubly encoded CR LF is cleaned like any other, and the withdrawal is written: clean_text
    stopped at '=?utf-8?q?Interview=0D=0ABcc=3A evil...?=' (a space inside), which the email
    package still decodes to CR LF, so the letter was refused and never sent."""
    sent = withdrawal(Case(0, NESTED_WORD, in_subject=True, robot=False), "en")
    assert_safe(sent.raw, to=SAM, closing=CLOSINGS["en"])


def test_no_control_byte_from_a_summary_reaches_the_wire(world: World) -> None:
    """A NUL in the invitation's SUMMARY does not reach aiosmtpd as a raw byte (decline_reply
    copied the SUMMARY into the 7bit REPLY part as it was)."""
    case = Case(0, NUL_PAYLOAD, in_subject=True, robot=False)
    world.dovecot.append(
        world.jane, "INBOX", invite_bytes(case, world.sam.address, world.jane.address)
    )
    state_config(world, extra=f'[[cancel]]\nuid = "{case.uid}"\n')
    assert world.cli("run", "--once").exit_code == 0
    [data] = world.sent_by_jane()
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)


# -- 2. templates cannot reach Python internals --------------------------------------------

# Each escape attempt and what the sandbox (ImmutableSandboxedEnvironment, StrictUndefined,
# no loader) says about it: the TemplateProblem's message contains the second string.
ESCAPES = [
    ("{{ ''.__class__.__mro__ }}", "not allowed: access to attribute '__class__'"),
    ("{{ ''.__class__ }}", "not allowed: access to attribute '__class__'"),
    ("{{ (1).__class__ }}", "not allowed: access to attribute '__class__'"),
    ("{{ cycler.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ joiner.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ namespace.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ lipsum.__globals__ }}", "not allowed: access to attribute '__globals__'"),
    ("{{ self._TemplateReference__context }}", "not allowed: access to attribute '_Template"),
    ("{{ self.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ self.__dict__ }}", "not allowed: access to attribute '__dict__'"),
    ("{{ event.start.__class__.__subclasses__() }}", "not allowed: access to attribute"),
    ("{{ event.start.tzinfo.__reduce_ex__(2) }}", "not allowed: access to attribute"),
    ("{{ dict.__base__.__subclasses__() }}", "not allowed: access to attribute '__base__'"),
    ("{{ ''|attr('__class__') }}", "not allowed: access to attribute '__class__'"),
    ("{{ event|attr('__class__') }}", "not allowed: access to attribute '__class__'"),
    ("{{ event['__class__'] }}", "not allowed: access to attribute '__class__'"),
    ("{{ '{0.__class__}'.format(reason) }}", "not allowed: access to attribute '__class__'"),
    ("{{ '%s'|format(''.__class__) }}", "not allowed: access to attribute '__class__'"),
    ("{% set x = me.__class__ %}{{ x }}", "not allowed: access to attribute '__class__'"),
    (
        "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "not allowed: access to attribute '__class__'",
    ),
    ("{{ me.update({'name': 'x'}) }}", "not allowed: access to attribute 'update'"),
    ("{{ booking_links.append(1) }}", "not allowed: access to attribute 'append'"),
    ("{{ range.__self__ }}", "undefined: "),
    ("{{ event.start.astimezone.__func__ }}", "undefined: "),
    ("{{ config.items() }}", "undefined: 'config' is undefined"),
    ("{{ request.application.__globals__ }}", "undefined: 'request' is undefined"),
    ("{% import 'os' as os %}", "no loader"),
    ("{% include '/etc/passwd' %}", "no loader"),
    ("{% extends '/etc/passwd' %}", "no loader"),
    ("{{ range(10**7)|list|length }}", "Range too big"),
]
# Globals that render, but only as a repr: nothing reached through them.
HARMLESS = ["{{ self }}", "{{ cycler }}", "{{ lipsum }}", "{{ range }}"]


def sample_context() -> dict[str, object]:
    """The variables `check` renders a template with."""
    event = sample_event(NOW)
    assert event.organizer is not None
    return context(
        event=event,
        me=JANE,
        recipient=event.organizer,
        reason="I have accepted another offer",
        offer_help=True,
        keep_in_touch=True,
        short_notice=False,
        now=NOW,
    )


@pytest.mark.parametrize(("source", "refusal"), ESCAPES)
def test_template_escape_is_refused_with_file_and_line(source: str, refusal: str) -> None:
    """Each escape, in the body or the Subject: line, is a TemplateProblem naming the file, the
    line and why; no text is produced to send."""
    for text, line in ((f"Hi\n{source}\n", 2), (f"Subject: {source}\n\nHi\n", 1)):
        with pytest.raises(TemplateProblem) as caught:
            fill((text, "evil.j2"), sample_context(), BERLIN)
        assert (caught.value.name, caught.value.line) == ("evil.j2", line)
        assert refusal in caught.value.message


@pytest.mark.parametrize("source", HARMLESS)
def test_sandbox_globals_render_only_as_a_repr(source: str) -> None:
    """Jinja's own globals print as a bare repr, which reaches nothing."""
    filled = fill((f"Hi\n{source}\n", "t.j2"), sample_context(), BERLIN)
    assert re.fullmatch(r"Hi\n<[^<>\n]+>\n", filled.body), filled.body


def test_check_reports_each_escape_and_run_sends_nothing(world: World) -> None:
    """`check --offline` fails each escaping [withdrawal].template with its file:line and reason;
    `run --once` then sends nothing for a flagged invite and says why; once the template is
    fixed, the letter goes out from it."""
    template = world.tmp / "mine.j2"
    template.write_text("Hi\n", encoding="utf-8")
    state_config(world, extra=f'template = "{template}"\n')
    for source, refusal in ESCAPES:
        template.write_text(f"Hi {{{{ recipient.name }}}},\n{source}\n", encoding="utf-8")
        result = world.cli("check", "--offline")
        assert result.exit_code == 1, (source, result.output)
        [line] = [x for x in result.output.splitlines() if " templates " in x]
        assert line.startswith("FAIL") and f"{template}:2: " in line, line
        assert refusal in line.replace("\n", " "), line
        assert "Traceback" not in result.output
    template.write_text("Hi\n{{ cycler.__init__.__globals__ }}\n", encoding="utf-8")
    world.invite("sandbox@g")
    result = world.cli("run", "--once")
    assert result.exit_code == 1
    assert f"{template}:2: not allowed" in " ".join(result.output.split())
    assert world.sent_by_jane() == []
    template.write_text("Hi {{ recipient.name }}, I withdraw.\n\nJane\n", encoding="utf-8")
    assert world.cli("run", "--once").exit_code == 0
    [sent] = world.sent_by_jane()
    assert b"Hi Sam, I withdraw." in sent


# -- 3. files are private ------------------------------------------------------------------


def decliner(config: Path, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    """`python -m decliner` in a child with every log level on, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "decliner", "--config", str(config), "--debug", "-vvv", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        umask=umask,
    )


def test_state_files_are_private_even_under_umask_0(world: World) -> None:
    """After a full withdrawal flow run with umask 0, the state dir is 0700 and every file in it
    (the db, -wal, -shm, the daemon lock) is 0600; decliner writes no other file."""
    world.invite("modes@g")
    config = state_config(world)
    before = set(world.tmp.iterdir())
    for args in (("run", "--once"), ("invites", "--json"), ("log", "--json"), ("check",)):
        done = decliner(config, *args, umask=0)
        assert done.returncode == 0, done.stdout + done.stderr
    assert len(world.sent_by_jane()) == 1
    state = world.tmp / "state"
    assert set(world.tmp.iterdir()) - before == {state}
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    files = sorted(p.name for p in state.iterdir())
    assert "decliner.db" in files
    assert set(files) <= {"decliner.db", "decliner.db-wal", "decliner.db-shm", "decliner.db.lock"}
    for path in state.iterdir():
        mode = path.lstat().st_mode
        assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o600, (path.name, oct(mode))


# -- 4. the CANARY secret appears nowhere --------------------------------------------------


def secret_forms(account: Account, *others: str) -> list[str]:
    """The passwords and the AUTH PLAIN / LOGIN blobs a protocol trace would carry."""
    forms = ["CANARY", account.password, *others]
    for password in (account.password, *others):
        forms.append(base64.b64encode(f"\0{account.address}\0{password}".encode()).decode())
        forms.append(base64.b64encode(password.encode()).decode())
    return forms


def dump_tables(path: Path) -> str:
    """Every row of every table of the sqlite db at `path`, as text."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "outbox" in tables
        rows = [repr(row) for table in tables for row in conn.execute(f'SELECT * FROM "{table}"')]
    conn.close()
    return "\n".join(rows)


def test_canary_appears_nowhere(world: World) -> None:
    """A refused IMAP login, a refused SMTP AUTH and a failed certificate check, then a good
    pass: no password (nor its base64 in an AUTH exchange) in any output at -vvv --debug, in any
    file of the state dir, in any row of its db, in `log --json` or `invites --json`."""
    wrong_imap, wrong_smtp = "pw-wrong-imap-CANARY-1", "pw-wrong-smtp-CANARY-2"
    world.invite("canary-a@g")
    done: list[subprocess.CompletedProcess[str]] = []

    def run(config: Path, *args: str) -> int:
        done.append(decliner(config, *args))
        return done[-1].returncode

    config = state_config(world, password=wrong_imap)
    assert run(config, "check") == 1
    assert f"login as {world.jane.address} refused" in done[-1].stdout
    assert run(config, "run", "--once") == 1
    text = config.read_text(encoding="utf-8").replace(wrong_imap, world.jane.password)
    bad_ca = f'ca_file = "{world.dovecot.other_ca_file}"\n'
    tls = text.replace(f"port = {world.dovecot.imap_port}", f"port = {world.dovecot.imaps_port}")
    tls = tls.replace(f"port = {world.smtp.plain.port}", f"port = {world.smtp.tls.port}")
    tls = tls.replace('security = "plain"\n', f'security = "tls"\n{bad_ca}')
    config.write_text(tls, encoding="utf-8")
    assert run(config, "check") == 1
    assert done[-1].stdout.count("certificate verification failed") == 2
    assert run(config, "run", "--once") == 1
    smtp_refused = text.replace("[smtp]\n", f'[smtp]\npassword = "{wrong_smtp}"\n')
    config.write_text(smtp_refused, encoding="utf-8")
    assert run(config, "check") == 1
    [smtp_line] = [x for x in done[-1].stdout.splitlines() if " smtp " in x]
    assert smtp_line.startswith("FAIL") and "refused" in smtp_line
    assert run(config, "run", "--once") == 0  # a refused AUTH is retried later (SPEC 5)
    assert "refused: 535" in done[-1].stderr
    assert world.sent_by_jane() == []
    world.invite("canary-b@g")
    config.write_text(text, encoding="utf-8")
    for args in (("run", "--once"), ("check",), ("log", "--json"), ("invites", "--all", "--json")):
        assert run(config, *args) == 0, done[-1].stderr
    assert world.sent_by_jane()
    assert json.loads(done[-2].stdout) and json.loads(done[-1].stdout)
    forms = secret_forms(world.jane, wrong_imap, wrong_smtp)
    for process in done:
        output = process.stdout + process.stderr
        assert not [f for f in forms if f in output], output
    state = world.tmp / "state"
    for path in state.iterdir():
        data = path.read_bytes()
        assert not [f for f in forms if f.encode() in data], path.name
    table_text = dump_tables(state / "decliner.db")
    assert "refused: 535" in table_text  # the refused AUTH is recorded, without the secret
    assert not [f for f in forms if f in table_text]
    assert not [f for f in forms if f.encode() in b"".join(world.sent_by_jane())]
