"""Letters to and from addresses in any script (SPEC 20): raw UTF-8 address headers (RFC
6532), never RFC 2047 words in an address, never a garbled one; ASCII letters unchanged."""

from __future__ import annotations

import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from decliner.core.letters.render import (
    Rendered,
    RenderError,
    render_followup,
    render_withdrawal,
)
from decliner.core.parse import ParsedInvite, parse_message
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, record_from
from tests.testbed.mailfactory import google_invite

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
JANE = Address("jane.doe@example.com", "Jane Doe")
INTERNATIONAL = ["josé@empresa.es", "用户@例子.广告", "jane@bücher.example"]


def invitation(organizer: str, me: str = JANE.email, summary: str = "Entrevista") -> EventRecord:
    """The stored event of a Google-style invitation from `organizer` to `me`."""
    raw, _ = google_invite(
        organizer=organizer,
        organizer_name="José Pérez",
        me=me,
        uid="utf8-1@example",
        start=datetime(2026, 12, 3, 15, tzinfo=UTC),
        summary=summary,
    )
    parsed = parse_message(raw, me=(me,), default_tz=BERLIN)
    assert isinstance(parsed, ParsedInvite)
    return record_from(
        event_id="x",
        event=parsed.events[0],
        message=parsed.message,
        folder="INBOX",
        uid=1,
        ical=parsed.calendar_bytes,
    )


def withdraw(event: EventRecord, **changes: Any) -> Rendered:
    args: dict[str, Any] = {
        "event": event,
        "me": JANE,
        "recipient": event.organizer,
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
    return render_withdrawal(**(args | changes))


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.strict).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def header_lines(raw: bytes, name: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line.startswith(name + b":")]


@pytest.mark.parametrize("attach", [False, True], ids=["plain", "with-decline"])
@pytest.mark.parametrize("address", INTERNATIONAL)
def test_a_letter_to_an_address_in_another_script_has_it_raw(address: str, attach: bool) -> None:
    """The recruiter's address is written as raw UTF-8 in To (no `=?`), parses back as exactly
    that address, and is the letter's recipient; the Message-ID stays ASCII."""
    event = invitation(address)
    rendered = withdraw(event, attach_decline=attach)
    [to] = header_lines(rendered.raw, b"To")
    assert f"<{address}>".encode() in to and b"=?" not in to
    message = parse(rendered.raw)
    assert [a for _, a in getaddresses([str(message["To"])])] == [address]
    assert rendered.to == (address,)
    assert rendered.message_id == "<tok-1@example.com>" == str(message["Message-ID"])
    if attach:
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        [vevent] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
        assert str(vevent["ORGANIZER"]) == f"mailto:{address}"


@pytest.mark.parametrize(
    "bad",
    [
        "josé\u202e@empresa.es",  # a bidi override
        "jos\u200bé@empresa.es",  # a zero-width space
        "josé@empresa\u3000.es",  # an ideographic space
        "josé\x85x@empresa.es",
        "jo sé@empresa.es",
        "josé@ｅmpresa.es",  # full-width: NFKC makes it empresa.es, a look-alike
        "josé@-empresa.es",
        "josé..x@empresa.es",
    ],
)
def test_unusable_addresses_in_another_script_are_refused(bad: str) -> None:
    """Invisible, spacing or look-alike characters, or a broken dot-atom or label, make no
    address to write to, in any script: a RenderError, as for ASCII ones."""
    event = invitation("josé@empresa.es")
    with pytest.raises(RenderError, match="address"):
        withdraw(event, recipient=Address(bad, "José"))
    with pytest.raises(RenderError, match="address"):
        withdraw(event, me=Address(bad, "Jane"))


def test_a_letter_from_an_address_in_another_script() -> None:
    """The user's own address in another script is raw in From; the Message-ID names the
    domain's A-labels, so it stays ASCII for every client's threading."""
    me = Address("用户@例子.广告", "用户")
    event = invitation("sam@acme.example", me=me.email)
    rendered = withdraw(event, me=me, attach_decline=True)
    [sender] = header_lines(rendered.raw, b"From")
    assert sender == "From: 用户 <用户@例子.广告>".encode()
    assert rendered.message_id == "<tok-1@xn--fsqu00a.xn--4rr70v>"
    part = next(p for p in parse(rendered.raw).walk() if p.get_content_type() == "text/calendar")
    [vevent] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert str(vevent["ATTENDEE"]) == "mailto:用户@例子.广告"
    assert vevent["ATTENDEE"].params["PARTSTAT"] == "DECLINED"


def test_a_cc_in_the_other_idna_spelling_is_the_same_recipient() -> None:
    """`jane@bücher.example` and `jane@xn--bcher-kva.example` are one mailbox: the Cc that
    repeats the recipient in the other spelling is dropped; another Cc is kept as written."""
    event = invitation("jane@bücher.example")
    cc = (Address("jane@xn--bcher-kva.example"), Address("josé@empresa.es"))
    rendered = withdraw(event, cc=cc)
    assert (rendered.to, rendered.cc) == (("jane@bücher.example",), ("josé@empresa.es",))
    [copy] = header_lines(rendered.raw, b"Cc")
    assert copy == "Cc: josé@empresa.es".encode()


def test_the_follow_up_to_an_address_in_another_script() -> None:
    """The follow-up is written the same way as the withdrawal."""
    event = invitation("josé@empresa.es")
    rendered = render_followup(
        event=event,
        me=JANE,
        recipient=Address("josé@empresa.es", "José"),
        cc=(),
        in_reply_to="<tok-1@example.com>",
        references=("<tok-1@example.com>",),
        withdrawal_date=NOW,
        withdrawal_subject="Re: Entrevista",
        replied=False,
        now=NOW,
        zone=BERLIN,
        token="tok-2",
    )
    [to] = header_lines(rendered.raw, b"To")
    assert to == "To: José <josé@empresa.es>".encode()
    assert "Hi José," in parse(rendered.raw).get_body(("plain",)).get_content()  # type: ignore[union-attr]


# The headers of the ASCII withdrawal below, byte for byte as the code before SPEC 20 wrote
# them (the body's wording is other tests' business).
ASCII_HEADERS = (
    b"From: Jane Doe <jane.doe@example.com>\r\n"
    b"To: =?utf-8?q?Zo=C3=AB_M=C3=BCller?= <sam@acme.example>\r\n"
    b"Subject: Re: Invitation: Entrevista =?utf-8?b?4oCTIEpvc8Op?= @ Thu Dec 03,\r\n 2026\r\n"
    b"Date: Mon, 30 Nov 2026 10:00:00 +0100\r\n"
    b"Message-ID: <tok-1@example.com>\r\n"
    b"In-Reply-To: <invite-1@acme.example>\r\n"
    b"References: <invite-1@acme.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n"
)


def test_ascii_letters_are_byte_for_byte_as_before() -> None:
    """A letter between ASCII addresses, with non-ASCII names and subject, is 7-bit with RFC
    2047 words as before SPEC 20: its headers are pinned byte for byte."""
    event = invitation("sam@acme.example", summary="Entrevista – José")
    thread = replace(event.invite, message_id="<invite-1@acme.example>", references=())
    rendered = withdraw(
        replace(event, invite=thread), recipient=Address("sam@acme.example", "Zoë Müller")
    )
    assert rendered.raw.isascii()
    assert rendered.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n" == ASCII_HEADERS
