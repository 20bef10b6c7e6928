"""Addresses in any script (SPEC 20): what core accepts, how it normalises, and how one
mailbox is matched in both IDNA spellings of its domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from decliner.core.parse import ParsedInvite, parse_message
from decliner.core.parse.mime import parse_headers
from decliner.core.parse.model import (
    Address,
    address_spellings,
    email_key,
    is_valid_email,
    normalise_email,
    unicode_domain,
)
from decliner.core.parse.replies import match_reply
from decliner.core.plan.recipient import resolve
from tests.testbed.mailfactory import google_invite
from tests.testbed.records import interview_record

INTERNATIONAL = [
    "josé@empresa.es",
    "用户@例子.广告",
    "jane@bücher.example",
    "δοκιμή@παράδειγμα.δοκιμή",
    "Pelé+jobs@Acme.example",
]
JUNK = [
    "",
    "josé",
    "josé@",
    "@empresa.es",
    "josé@@empresa.es",
    "josé@empresa@es",
    "jo sé@empresa.es",
    "josé@empresa .es",
    "josé\u3000x@empresa.es",
    "josé@empresa.es\r\nBcc: evil@x.example",
    "josé\n@empresa.es",
    "jos\x00é@empresa.es",
    "jos\x07é@empresa.es",
    "jos\x7fé@empresa.es",
    "jos\x9bé@empresa.es",
    "josé\u2028@empresa.es",
    "José <josé@empresa.es>",
    "josé@empresa.es, evil@x.example",
]


@pytest.mark.parametrize("address", INTERNATIONAL)
def test_addresses_in_any_script_are_valid(address: str) -> None:
    """Non-ASCII local parts and domains (RFC 6531/6532) are one valid address."""
    assert is_valid_email(address)


@pytest.mark.parametrize("junk", JUNK)
def test_junk_is_still_refused(junk: str) -> None:
    """No @, two @, an empty part, a space, a control character or a line break is no address,
    in any script."""
    assert not is_valid_email(junk)


def test_normalising_keeps_the_script() -> None:
    """`mailto:` and case go, a decomposed é is composed (NFC); nothing is transliterated, and
    neither IDNA spelling of a domain is turned into the other."""
    assert normalise_email("MAILTO:José@Empresa.ES ") == "josé@empresa.es"
    assert normalise_email("jose\u0301@empresa.es") == "josé@empresa.es"
    assert normalise_email("用户@例子.广告") == "用户@例子.广告"
    assert normalise_email("Jane@BÜCHER.example") == "jane@bücher.example"
    assert normalise_email("jane@xn--bcher-kva.example") == "jane@xn--bcher-kva.example"
    assert Address("mailto:José@Empresa.es", "José").email == "josé@empresa.es"
    assert normalise_email("Jane@Example.COM") == "jane@example.com"  # ASCII as before


def test_one_mailbox_in_both_idna_spellings() -> None:
    """A U-label domain and its A-label (`bücher` / `xn--bcher-kva`) are one mailbox; an
    ASCII address has one spelling, and a broken `xn--` label is kept as written."""
    assert address_spellings("Jane@Bücher.example") == (
        "jane@bücher.example",
        "jane@xn--bcher-kva.example",
    )
    assert email_key("jane@bücher.example") == email_key("JANE@xn--BCHER-kva.example")
    assert email_key("用户@例子.广告") == email_key("用户@xn--fsqu00a.xn--4rr70v")
    assert address_spellings("jane@example.com") == ("jane@example.com",)
    assert address_spellings("jane@xn--zz!.example") == ("jane@xn--zz!.example",)
    assert address_spellings("jane@xn--abc.example") == ("jane@xn--abc.example",)
    assert unicode_domain("xn--bcher-kva.example") == "bücher.example"


def _invite(*, organizer: str, me: str, mine: tuple[str, ...]) -> ParsedInvite:
    raw, _ = google_invite(
        organizer=organizer,
        organizer_name="José Pérez",
        me=me,
        uid="idna-1@example",
        start=datetime(2026, 12, 3, 15, tzinfo=UTC),
    )
    parsed = parse_message(raw, me=mine, default_tz=ZoneInfo("Europe/Berlin"))
    assert isinstance(parsed, ParsedInvite)
    return parsed


@pytest.mark.parametrize(
    ("written", "configured"),
    [
        ("jane@xn--bcher-kva.example", "jane@bücher.example"),
        ("jane@bücher.example", "jane@xn--bcher-kva.example"),
        ("Jane@Bücher.example", "jane@bücher.example"),
    ],
)
def test_the_user_is_found_in_either_spelling(written: str, configured: str) -> None:
    """The invitation's ATTENDEE is the user whichever IDNA spelling either side uses, and the
    organizer and Reply-To in another script (raw UTF-8 headers) are read exactly."""
    parsed = _invite(organizer="josé@empresa.es", me=written, mine=(configured,))
    assert parsed.message.reply_to == Address("josé@empresa.es", "José Pérez")
    [event] = parsed.events
    assert event.attendee is not None
    assert event.attendee.email == normalise_email(written)
    assert event.organizer == Address("josé@empresa.es", "José Pérez")


def test_the_user_in_the_other_spelling_is_never_the_recipient() -> None:
    """An organizer who is the user in the other IDNA spelling is not written to."""
    me = Address("jane@xn--bcher-kva.example", "Jane")
    event = interview_record(datetime(2026, 12, 3, 15, tzinfo=UTC))
    event = replace(event, organizer=me, invite=replace(event.invite, from_=me))
    assert resolve(event, ("jane@bücher.example",)) is None
    assert resolve(event, ("jane@other.example",)) == event.organizer


def test_a_reply_from_an_address_in_another_script_is_read_exactly() -> None:
    """A reply with raw UTF-8 address headers (RFC 6532) names its sender and recipients as
    written; a header in another 8-bit charset yields no address rather than a garbled one."""
    head = (
        "From: José Pérez <josé@empresa.es>\r\n"
        "To: Jane <jane@bücher.example>\r\nCc: 用户@例子.广告, sam@acme.example\r\n"
        "Message-ID: <r1@empresa.es>\r\nIn-Reply-To: <tok-1@example.com>\r\n"
        "Subject: Re: Entrevista\r\n\r\n"
    ).encode()
    reply = match_reply(head, {"<tok-1@example.com>": "e1"}, ("jane@xn--bcher-kva.example",))
    assert reply is not None
    assert (reply.from_, reply.to, reply.cc) == (
        "josé@empresa.es",
        ("jane@bücher.example",),
        ("用户@例子.广告", "sam@acme.example"),
    )
    mine = head.replace("José Pérez <josé@empresa.es>".encode(), b"jane@xn--bcher-kva.example")
    assert match_reply(mine, {"<tok-1@example.com>": "e1"}, ("jane@bücher.example",)) is None
    latin1 = head.replace("josé".encode(), "josé".encode("latin-1"))
    assert parse_headers(latin1).from_ is None
