"""Rendered messages: headers, threading, subjects, recipients, and header injection."""

from __future__ import annotations

import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decliner.core.letters.render import Rendered, RenderError, render_followup, render_withdrawal
from decliner.core.parse import ParsedInvite, parse_message
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, record_from

CORPUS = Path(__file__).parents[2] / "corpus" / "invites"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ME = Address("jane.doe@example.com", "Jane Doe")
SAM = Address("sam@acme.example", "Sam Recruiter")
INVITE_ID = "<invite-01@acme.example>"
BASE = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}
THREAD = {"In-Reply-To", "References"}


def corpus_record(prefix: str, index: int = -1) -> EventRecord:
    """The EventRecord for one corpus invite, as the scanner would store it."""
    path = next(CORPUS.glob(f"{prefix}-*.eml"))
    parsed = parse_message(
        path.read_bytes(),
        me=("jane.doe@example.com", "jdoe@example.org"),
        default_tz=BERLIN,
    )
    assert isinstance(parsed, ParsedInvite)
    return record_from(
        event_id="x",
        event=parsed.events[index],
        message=parsed.message,
        folder="INBOX",
        uid=1,
        ical=parsed.calendar_bytes,
    )


RECORD = corpus_record("01")


def withdraw(event: EventRecord = RECORD, **changes: Any) -> Rendered:
    """A withdrawal with sensible defaults; keyword arguments override them."""
    args: dict[str, Any] = {
        "event": event,
        "me": ME,
        "recipient": event.organizer or SAM,
        "cc": (),
        "reason": "I have accepted another offer",
        "offer_help": True,
        "keep_in_touch": True,
        "short_notice": False,
        "now": NOW,
        "zone": BERLIN,
        "token": "tok-1",
        "attach_decline": False,
    }
    args.update(changes)
    return render_withdrawal(**args)


def follow_up(event: EventRecord = RECORD, **changes: Any) -> Rendered:
    """A follow-up replying to the withdrawal, with sensible defaults."""
    args: dict[str, Any] = {
        "event": event,
        "me": ME,
        "recipient": event.organizer or SAM,
        "cc": (),
        "in_reply_to": "<tok-1@example.com>",
        "references": (INVITE_ID, "<tok-1@example.com>"),
        "withdrawal_date": NOW,
        "withdrawal_subject": "Re: Interview",
        "replied": False,
        "now": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "zone": BERLIN,
        "token": "tok-2",
    }
    args.update(changes)
    return render_followup(**args)


def parse(raw: bytes) -> EmailMessage:
    """Parse strictly, as a picky receiving server would."""
    message = BytesParser(policy=email.policy.strict).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def addresses(message: EmailMessage, name: str) -> list[str]:
    """Every address in every `name` header."""
    return [a for _, a in getaddresses([str(v) for v in message.get_all(name, [])])]


def test_withdrawal_headers_and_threading() -> None:
    """From, To with display name, Re: subject, Date in the zone, ids, In-Reply-To, References."""
    rendered = withdraw()
    message = parse(rendered.raw)
    assert set(message.keys()) == BASE | THREAD | {"Content-Transfer-Encoding"}
    assert message["From"] == "Jane Doe <jane.doe@example.com>"
    assert message["To"] == "Sam Recruiter <sam@acme.example>"
    assert message["Subject"] == f"Re: {RECORD.invite.subject}"
    assert RECORD.invite.subject.startswith("Invitation: Interview: Jane Doe <> Acme")
    assert message["Date"] == "Mon, 30 Nov 2026 10:00:00 +0100"
    assert message["Message-ID"] == "<tok-1@example.com>" == rendered.message_id
    assert message["In-Reply-To"] == RECORD.invite.message_id == rendered.in_reply_to
    assert message["References"].split() == [*RECORD.invite.references, RECORD.invite.message_id]
    assert rendered.references == (*RECORD.invite.references, RECORD.invite.message_id)
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert (rendered.to, rendered.cc) == (("sam@acme.example",), ())
    assert rendered.subject == message["Subject"]
    assert b"\r\n" in rendered.raw and b"\n" not in rendered.raw.replace(b"\r\n", b"")


def test_long_message_ids_are_not_encoded() -> None:
    """Outlook's long ids stay literal in In-Reply-To/References (no RFC 2047 words)."""
    record = corpus_record("10")
    raw = withdraw(record).raw
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?" not in header_block.split(b"\r\nSubject:")[0]
    message = parse(raw)
    assert message["In-Reply-To"] == record.invite.message_id
    assert message["References"] == record.invite.message_id


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Interview", "Re: Interview"),
        ("Re: Interview", "Re: Interview"),
        ("RE: Re: Interview", "Re: Interview"),
        ("Aw: SV: re : Interview", "Re: Interview"),
        ("Re[2]: Interview", "Re: Interview"),
        ("Fwd: Interview", "Re: Fwd: Interview"),
        ("Remote interview", "Re: Remote interview"),
        ("", "Re: Interview: Jane Doe <> Acme – Senior Engineer"),
    ],
)
def test_subject_is_one_re(subject: str, expected: str) -> None:
    """The subject is `Re: <invite subject>`, never a stacked `Re: Re:`."""
    event = replace(RECORD, invite=replace(RECORD.invite, subject=subject))
    assert parse(withdraw(event).raw)["Subject"] == expected


def test_followup_threads_under_the_given_message() -> None:
    """The follow-up replies to `in_reply_to` with the same subject and the given chain."""
    rendered = follow_up(
        in_reply_to="<reply@acme.example>",
        references=(INVITE_ID, "<tok-1@example.com>", "bogus", INVITE_ID),
        withdrawal_subject="Re: RE: Interview: Jane Doe <> Acme – Senior Engineer",
    )
    message = parse(rendered.raw)
    assert message["Subject"] == "Re: Interview: Jane Doe <> Acme – Senior Engineer"
    assert message["In-Reply-To"] == "<reply@acme.example>"
    assert message["References"].split() == [
        INVITE_ID,
        "<tok-1@example.com>",
        "<reply@acme.example>",
    ]
    assert message["Message-ID"] == "<tok-2@example.com>"
    assert message["Date"] == "Tue, 01 Dec 2026 10:00:00 +0100"


def test_no_threading_headers_without_valid_ids() -> None:
    """An invite without a usable Message-ID gets neither In-Reply-To nor References."""
    event = replace(RECORD, invite=replace(RECORD.invite, message_id="junk", references=()))
    message = parse(withdraw(event).raw)
    assert not THREAD & set(message.keys())


def test_long_reference_chains_are_trimmed() -> None:
    """A long chain keeps its root and the newest ids, like mail clients do."""
    chain = tuple(f"<m{i}@acme.example>" for i in range(40))
    rendered = follow_up(references=chain, in_reply_to=chain[-1])
    assert rendered.references[0] == chain[0]
    assert rendered.references[-1] == chain[-1]
    assert len(rendered.references) == 20
    assert parse(rendered.raw)["References"].split() == list(rendered.references)


def test_cc_from_arguments_and_template() -> None:
    """Cc joins the arguments and the template's Cc:, de-duplicated, never the recipient."""
    template = ("Subject: Withdrawal\nCc: hm@acme.example, Sam <sam@acme.example>\n\nHi\n", "t.j2")
    rendered = withdraw(
        cc=(Address("hr@acme.example", "HR"), Address("HM@acme.example")), template=template
    )
    message = parse(rendered.raw)
    assert addresses(message, "Cc") == ["hr@acme.example", "hm@acme.example"]
    assert rendered.cc == ("hr@acme.example", "hm@acme.example")
    assert message["Subject"] == "Withdrawal"


def test_to_without_a_name_is_a_bare_address() -> None:
    """No display name is invented; a name that is the address is dropped."""
    for name in ("", "sam@acme.example", "'sam@acme.example'"):
        message = parse(withdraw(recipient=Address("sam@acme.example", name)).raw)
        assert message["To"] == "sam@acme.example"


def test_non_ascii_names_and_body_are_encoded() -> None:
    """Non-ASCII names become RFC 2047 words and the body quoted-printable: raw is 7-bit."""
    event = replace(RECORD, summary="Entretien – Société Générale")
    zoe = Address("zoe@acme.example", "Zoë Müller")
    rendered = withdraw(event, recipient=zoe, reason="Une offre de Société Générale")
    assert rendered.raw.isascii()
    message = parse(rendered.raw)
    assert message["To"] == "Zoë Müller <zoe@acme.example>"
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    body = message.get_content()
    assert "Hi Zoë," in body and "Société Générale" in body


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "sam",
        "sam@",
        "@acme.example",
        "sam@acme.example\r\nBcc: evil@x.example",
        "sam@acme.example, evil@x.example",
        "sam@acme.example evil@x.example",
        "Sam <sam@acme.example>",
        "sam@@acme.example",
        "sam..x@acme.example",
        "sam@acme..example",
        "sam@-acme.example",
        "sam@acme.example\x00",
        "sam@acme.example\u2028x",
        '"sam"@acme.example',
        "sam@[127.0.0.1]",
        "sam@ａcme.example",
        "sam@acme.example;evil@x.example",
        "sam(comment)@acme.example",
    ],
)
def test_unusable_addresses_raise_render_error(bad: str) -> None:
    """A recipient, Cc or sender that is not one plain local@domain is a RenderError."""
    with pytest.raises(RenderError, match="address"):
        withdraw(recipient=Address(bad, "Sam"))
    with pytest.raises(RenderError, match="address"):
        withdraw(cc=(Address(bad),))
    with pytest.raises(RenderError, match="address"):
        withdraw(me=Address(bad, "Jane"))


INJECTIONS = [
    "\r\nBcc: evil@x.example",
    "\nBcc: evil@x.example",
    "\rBcc: evil@x.example",
    "x\r\n\r\nInjected body",
    "x\r\n To: evil@x.example",
    "x\r\n\tCc: evil@x.example",
    "\x00Bcc: evil@x.example",
    "\u2028Bcc: evil@x.example",
    "\u2029Bcc: evil@x.example",
    "\x85Bcc: evil@x.example",
    "\x0bBcc: evil@x.example",
    "\x0cBcc: evil@x.example",
    "\x1cBcc: evil@x.example",
    "\x1eBcc: evil@x.example",
    "\x1b[31mBcc: evil@x.example",
    "x\x7fBcc: evil@x.example",
    "=?utf-8?q?x=0D=0ABcc:_evil@x.example?=",
    "=?utf-8?Q?x=0ABcc:_evil@x.example?=",
    "=?utf-8?b?eA0KQmNjOiBldmlsQHguZXhhbXBsZQ==?=",
    "=?iso-8859-1?q?x=0D=0ATo:_evil@x.example?=",
    "=?utf-8?q?=3D=3Futf-8=3Fq=3Fx=3D0D=3D0ABcc=3A=5Fevil@x.example=3F=3D?=",
    "=?utf-8?q?x?= =?utf-8?q?=0D=0A?=Bcc: evil@x.example",
    "=?bogus-charset?q?x=0D=0ABcc:_evil@x.example?=",
    "evil@x.example, other@x.example",
    "<evil@x.example>",
    '"Sam" <evil@x.example>',
    "Sam, evil@x.example; other@x.example",
    "Sam\\\r\nBcc: evil@x.example",
    '"\r\nBcc: evil@x.example',
    "%0d%0aBcc: evil@x.example",
    "\\r\\nBcc: evil@x.example",
    "Re: RE: Aw:\r\nBcc: evil@x.example",
    "<a@b.example>\r\nBcc: evil@x.example",
    "<a@b.example> <c@d.example>",
    "a" * 2000,
    "Ünïcödé – “quotes” 😀 \u200b\ufeff",
    "{{ 7*7 }}{% raw %}",
]
FIELDS = ["summary", "organizer_name", "recipient_name", "subject", "message_id", "reason"]


def _with_field(field: str, value: str) -> dict[str, Any]:
    """withdraw() arguments with `value` placed in one message-derived field."""
    invite = RECORD.invite
    if field == "summary":
        return {"event": replace(RECORD, summary=value, location=value)}
    if field == "organizer_name":
        organizer = Address("sam@acme.example", value)
        return {"event": replace(RECORD, organizer=organizer), "recipient": organizer}
    if field == "recipient_name":
        return {"recipient": Address("sam@acme.example", value), "me": Address(ME.email, value)}
    if field == "subject":
        return {"event": replace(RECORD, invite=replace(invite, subject=value))}
    if field == "message_id":
        new = replace(invite, message_id=value, references=(value, "<ok@acme.example>"))
        return {"event": replace(RECORD, invite=new)}
    return {"reason": value}


def assert_safe(rendered: Rendered, *, multipart: bool) -> None:
    """Exactly our headers, one To, no Cc or Bcc, and every id valid."""
    message = parse(rendered.raw)
    names = set(message.keys())
    expected = BASE | ({"Content-Transfer-Encoding"} if not multipart else set())
    assert expected <= names <= expected | THREAD, names
    assert len(message.keys()) == len(names)
    assert addresses(message, "To") == ["sam@acme.example"]
    assert not addresses(message, "Cc") and not addresses(message, "Bcc")
    for name in ("From", "To", "Subject", "In-Reply-To", "References"):
        value = message.get(name)
        assert value is None or not any(c in str(value) for c in "\r\n\x00\u2028\u2029\x85")
    assert message["Message-ID"] == rendered.message_id
    for part in message.walk():
        if part is not message:
            assert not {"Bcc", "To", "Cc", "Subject"} & set(part.keys())


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", INJECTIONS)
def test_no_field_can_add_a_header(field: str, payload: str) -> None:
    """No payload in any message-derived field adds a header or a recipient."""
    rendered = withdraw(**_with_field(field, payload))
    assert_safe(rendered, multipart=False)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", INJECTIONS[:22])
def test_no_field_can_add_a_header_with_the_decline(field: str, payload: str) -> None:
    """The same holds for the multipart withdrawal carrying the iTIP REPLY."""
    rendered = withdraw(**_with_field(field, payload), attach_decline=True)
    assert_safe(rendered, multipart=True)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_followup_fields_cannot_add_a_header(payload: str) -> None:
    """The follow-up's subject and thread ids cannot add a header either."""
    rendered = follow_up(
        withdrawal_subject=payload,
        in_reply_to=payload,
        references=(payload, INVITE_ID),
        recipient=Address("sam@acme.example", payload),
    )
    assert_safe(rendered, multipart=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(FIELDS),
    value=st.text(max_size=300),
    attach=st.booleans(),
)
def test_random_text_never_adds_a_header(field: str, value: str, attach: bool) -> None:
    """Random text in a message-derived field yields our headers or a RenderError, nothing else."""
    try:
        rendered = withdraw(**_with_field(field, value), attach_decline=attach)
    except RenderError:
        return
    assert_safe(rendered, multipart=attach)


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=80), local=st.text(min_size=0, max_size=20))
def test_random_addresses_are_rendered_exactly_or_refused(name: str, local: str) -> None:
    """A random address either goes out as exactly that one address or is a RenderError."""
    recipient = Address(f"{local}@acme.example", name)
    try:
        rendered = withdraw(recipient=recipient)
    except RenderError:
        return
    assert addresses(parse(rendered.raw), "To") == [recipient.email]


def test_bad_token_and_naive_now_are_programming_errors() -> None:
    """The caller's own mistakes are ValueError, not RenderError (no needs_recipient)."""
    with pytest.raises(ValueError, match="token"):
        withdraw(token="a b")
    with pytest.raises(ValueError, match="aware"):
        withdraw(now=datetime(2026, 11, 30, 9, 0))  # noqa: DTZ001 -- naive on purpose
