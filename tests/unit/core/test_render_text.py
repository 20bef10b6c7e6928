"""The built-in messages: every step SPEC lists, exactly when asked for, in lines of 78."""

from __future__ import annotations

import email.policy
import itertools
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from decliner.core.letters.render import Rendered, render_followup, render_withdrawal
from decliner.core.parse import ParsedInvite, parse_message
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, record_from

CORPUS = Path(__file__).parents[2] / "corpus" / "invites"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ME = Address("jane.doe@example.com", "Jane Doe")
LONG_SUMMARY = " ".join(["Extended-panel"] * 20)[:300]
LONG_NAME = "Maximiliane-Alexandrina Sophia-Charlotte von und zu Hohenzollern-Sigmaringen"


def _record(prefix: str = "01") -> EventRecord:
    path = next(CORPUS.glob(f"{prefix}-*.eml"))
    parsed = parse_message(path.read_bytes(), me=(ME.email,), default_tz=BERLIN)
    assert isinstance(parsed, ParsedInvite)
    return record_from(
        event_id="x",
        event=parsed.events[0],
        message=parsed.message,
        folder="INBOX",
        uid=1,
        ical=parsed.calendar_bytes,
    )


RECORD = _record()  # Thursday, 3 December 2026, 10:00 New York = 16:00 Berlin


def body(rendered: Rendered) -> str:
    """The text/plain body as a reader sees it."""
    message = BytesParser(policy=email.policy.strict).parsebytes(rendered.raw)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None and part.get_content_charset() == "utf-8"
    text = part.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def withdrawal(**changes: Any) -> str:
    """The built-in withdrawal's body, with defaults overridden by `changes`."""
    args: dict[str, Any] = {
        "event": RECORD,
        "me": ME,
        "recipient": RECORD.organizer,
        "cc": (),
        "reason": "",
        "offer_help": False,
        "keep_in_touch": False,
        "short_notice": False,
        "now": NOW,
        "zone": BERLIN,
        "token": "t1",
        "attach_decline": False,
    }
    args.update(changes)
    return body(render_withdrawal(**args))


def followup(**changes: Any) -> str:
    """The built-in follow-up's body, with defaults overridden by `changes`."""
    args: dict[str, Any] = {
        "event": RECORD,
        "me": ME,
        "recipient": RECORD.organizer,
        "cc": (),
        "in_reply_to": "<t1@example.com>",
        "references": ("<t1@example.com>",),
        "withdrawal_date": NOW,
        "withdrawal_subject": "Re: Interview",
        "replied": False,
        "now": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "zone": BERLIN,
        "token": "t2",
    }
    args.update(changes)
    return body(render_followup(**args))


def flat(text: str) -> str:
    """The body with wrapping undone, to search for sentences."""
    return " ".join(text.split())


def assert_common(text: str, *, summary: str = RECORD.summary) -> None:
    """Greeting, thanks, the decision naming the interview (never by its calendar title,
    SPEC 19) with its local date, and the signature."""
    lines = text.split("\n")
    assert lines[0] == "Hi Sam,"
    assert "Thank you" in text
    assert summary not in flat(text)
    assert "my interview" in flat(text)
    assert "Thursday, 3 December 2026 at 16:00 (CET)" in flat(text)
    assert "withdraw" in text and "hiring process" in flat(text)
    assert text.endswith("\n\nBest regards,\nJane Doe\n")
    assert all(len(line) <= 78 for line in lines), [x for x in lines if len(x) > 78]
    assert "!" not in text
    assert not re.search(r"[.!?][.!?]|\s[.,]|  ", text)


FLAGS = list(itertools.product([False, True], repeat=4))


@pytest.mark.parametrize(("reason", "offer", "keep", "short"), FLAGS)
def test_withdrawal_says_exactly_what_is_asked(
    reason: bool, offer: bool, keep: bool, short: bool
) -> None:
    """Reason, apology, offer of help and future roles appear exactly when asked for."""
    text = withdrawal(
        reason="I have accepted another offer" if reason else "",
        offer_help=offer,
        keep_in_touch=keep,
        short_notice=short,
        attach_decline=True,
    )
    assert_common(text)
    flat_text = flat(text)
    assert ("I have accepted another offer." in flat_text) is reason
    assert ("short notice" in flat_text) is short
    assert ("happy to share" in flat_text) is offer
    assert ("slot is free for someone else" in flat_text) is offer
    assert ("future role" in flat_text) is keep


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("I have accepted another offer.", "I have accepted another offer."),
        ("I have accepted another offer...", "I have accepted another offer."),
        ("Is the role still open next year?", "Is the role still open next year?"),
        ("  My plans have changed  ", "My plans have changed."),
    ],
)
def test_reason_is_inserted_as_given_with_one_mark(given: str, shown: str) -> None:
    """The reason reads as the user wrote it, ending in exactly one terminal mark."""
    text = flat(withdrawal(reason=given))
    assert f"hiring process. {shown} " in f"{text} "
    assert text.count(shown) == 1


def test_no_calendar_claim_without_the_decline() -> None:
    """Without the attached decline the message does not claim the calendar was declined."""
    text = flat(withdrawal(offer_help=True, attach_decline=False))
    assert "happy to share" in text
    assert "declined the calendar" not in text


def test_greeting_without_a_name() -> None:
    """'Hello,' when the recipient's name is unknown or not a person's."""
    for name in ("", "Acme Talent Team", "sam@acme.example"):
        assert withdrawal(recipient=Address("sam@acme.example", name)).startswith("Hello,\n\n")


def test_outlook_last_first_name() -> None:
    """Outlook's 'Last, First' display name greets the first name."""
    record = _record("10")
    text = withdrawal(event=record, recipient=record.organizer)
    assert text.startswith("Hi Meera,\n")
    assert "Wednesday, 20 January 2027 at 14:30 (CET)" in flat(text)


def test_all_day_event_names_only_the_day() -> None:
    """An all-day interview is named by its day, without a time."""
    record = _record("25")
    text = flat(withdrawal(event=record, recipient=record.organizer))
    assert "on Friday, 22 January 2027, and from the hiring process." in text
    assert "(CET)" not in text


def test_long_summary_and_names_stay_within_78() -> None:
    """A 300-character summary (never quoted) and long names still wrap to 78 without
    breaking words."""
    event = replace(RECORD, summary=LONG_SUMMARY)
    text = withdrawal(
        event=event,
        me=Address(ME.email, LONG_NAME),
        recipient=Address("sam@acme.example", LONG_NAME),
        reason="I have accepted another offer " * 8,
        offer_help=True,
        keep_in_touch=True,
        short_notice=True,
    )
    assert all(len(line) <= 78 for line in text.split("\n"))
    assert LONG_SUMMARY not in flat(text)
    assert text.endswith(f"Best regards,\n{LONG_NAME}\n")
    assert text.startswith("Hi Maximiliane-Alexandrina,\n")


@pytest.mark.parametrize(("replied", "keep"), list(itertools.product([False, True], repeat=2)))
def test_followup_confirms_and_thanks_for_a_reply(replied: bool, keep: bool) -> None:
    """The follow-up confirms the withdrawal; it thanks for their reply exactly when one came."""
    text = followup(replied=replied, keep_in_touch=keep)
    assert_common(text)
    flat_text = flat(text)
    assert "confirm" in flat_text
    assert "Monday, 30 November 2026" in flat_text
    assert ("Thank you for your reply" in flat_text) is replied
    assert ("future roles" in flat_text) is keep


def test_user_template_with_headers() -> None:
    """A user template's Subject: and Cc: become headers; the rest is the body."""
    template = (
        (
            "Subject: Withdrawing from {{ event.summary }}\nCc: hm@acme.example\n\n"
            "Dear {{ recipient | first_name }},\n\nNo longer available {{ event.start | date }}.\n"
            "{{ me.name }}\n"
        ),
        "custom.j2",
    )
    rendered = render_withdrawal(
        event=RECORD,
        me=ME,
        recipient=RECORD.organizer or ME,
        cc=(),
        reason="",
        offer_help=False,
        keep_in_touch=False,
        short_notice=False,
        now=NOW,
        zone=BERLIN,
        token="t1",
        attach_decline=False,
        template=template,
    )
    assert rendered.subject == f"Withdrawing from {RECORD.summary}"
    assert rendered.cc == ("hm@acme.example",)
    assert body(rendered) == (
        "Dear Sam,\n\nNo longer available Thursday, 3\u00a0December 2026.\nJane Doe\n"
    )
