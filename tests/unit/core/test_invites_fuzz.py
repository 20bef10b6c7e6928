"""Nothing in a message can make the parser raise: mutated and random bytes only get results."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decliner.core.parse import ParsedInvite, Rejected, parse_calendar, parse_message
from tests.testbed.fuzz import CALENDAR, LONG, examples, mutated

ME = ("jane.doe@example.com",)


BERLIN = ZoneInfo("Europe/Berlin")


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
