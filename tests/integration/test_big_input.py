"""Mail at volume (issue 17): 10 MB messages are read and calendars of 100,000 components are
skipped with a warning naming folder and UID (Maildir: key), all in bounded memory (SPEC 10).

tests/integration/test_limits.py checks each limit at its edge; this drives them with inputs far past it,
through the parser, a Maildir pass and an IMAP pass, and measures the memory each takes."""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from decliner.core.parse import ParsedInvite, Rejected, parse_message
from decliner.core.parse.mime import TEXT_LIMIT
from decliner.core.parse.model import MAX_MESSAGE_LINES
from decliner.core.parse.vcalendar import MAX_COMPONENTS
from decliner.mail.maildir import MAX_MESSAGE_BYTES
from tests.testbed.big_mail import MIB, calendar, cli_run, mail
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.imap_inbox import ME, corpus_config
from tests.testbed.maildir_tree import Tree

T = TypeVar("T")
MEMORY_LIMIT = 500 * MIB  # the peak of Python allocations during one parse or one pass
COMPONENTS = 100_000
BIG = 10 * 1000 * 1000  # "a 10 MB message"
CANCEL = "https://calendly.com/cancellations/EARLY"
RESCHEDULE = "https://calendly.com/reschedulings/LATE"  # placed after TEXT_LIMIT characters


def peak_memory(work: Callable[[], T]) -> tuple[T, int]:
    """`work()`'s result and the peak of the Python memory it allocated (tracemalloc: the
    same count on every machine, unlike a clock or the process's RSS)."""
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def parse(raw: bytes) -> ParsedInvite | Rejected | None:
    return parse_message(raw, me=[ME], default_tz=ZoneInfo("Europe/Berlin"))


def invitation(uid: str, *, html: str = "", plain: str = "See you.", pdf: int = 0) -> bytes:
    """A REQUEST to ME with a text body, optionally an HTML body and a `pdf`-byte attachment."""
    msg = EmailMessage()
    msg["From"] = "Sam Recruiter <sam@acme.example>"
    msg["To"] = ME
    msg["Subject"] = "Interview"
    msg["Message-ID"] = f"<{uid}@acme.example>"
    msg.set_content(plain)
    if html:
        msg.add_alternative(html, subtype="html")
    msg.add_alternative(calendar(uid), "text", "calendar", params={"method": "REQUEST"})
    if pdf:
        data = random.Random(uid).randbytes(pdf)  # filler, the same every run
        msg.add_attachment(data, "application", "pdf", filename="portfolio.pdf")
    return msg.as_bytes()


def big_messages() -> dict[str, bytes]:
    """Three 10 MB invitations: a big attachment, a big HTML body with a booking link at its
    start and one past TEXT_LIMIT, and a body of 2-byte lines, the email package's worst case."""
    paragraph = '<p>About the role: <a href="https://acme.example/jobs/7">the job</a>.</p>\n'
    html = (
        f'<a href="{CANCEL}">Cancel</a>\n'
        + paragraph * (BIG // len(paragraph))
        + f'<a href="{RESCHEDULE}">Reschedule</a>'
    )
    assert html.index(RESCHEDULE) > TEXT_LIMIT
    messages = {
        "attachment": invitation("attachment", pdf=BIG * 3 // 4),  # base64 makes it 10 MB
        "html": invitation("html", html=html),
        "short-lines": invitation("short-lines", plain="-\n" * (BIG // 2)),
    }
    for raw in messages.values():
        assert len(raw) >= BIG
    return messages


def compact_calendar(uid: str, *, folded: bool = False) -> bytes:
    """A REQUEST with COMPONENTS empty VEVENTs: 2.5 MiB, under the byte limit; `folded` writes
    every BEGIN line folded ("B" CRLF SPACE "EGIN:VEVENT"), which unfolding makes whole."""
    begin = "B\r\n EGIN:VEVENT" if folded else "BEGIN:VEVENT"
    head = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:REQUEST\r\nX-UID:{uid}\r\n"
    )
    return (head + f"{begin}\r\nEND:VEVENT\r\n" * COMPONENTS + "END:VCALENDAR\r\n").encode()


COMPLETE = calendar("complete", events=COMPONENTS)


def huge_calendars() -> dict[str, bytes]:
    """Messages whose calendar has 100,000 VEVENTs: empty ones (2.5 MiB, over the component
    limit) and complete ones (22 MiB, over the byte limit too)."""
    return {
        "compact": mail("compact", compact_calendar("compact")),
        "complete": mail("complete", COMPLETE),
    }


SHORT_LINES = f"message of {BIG // 2 + 26:,} lines is over the limit of {MAX_MESSAGE_LINES:,}"
TOO_MANY = f"calendar has {COMPONENTS + 1} components, over the limit of {MAX_COMPONENTS}"
TOO_BIG = f"of {len(COMPLETE) / MIB:.1f} MiB is over the 4 MiB limit"
# The mailbox module files messages with LF line ends, so a Maildir holds that many bytes less.
COMPLETE_LF = COMPLETE.replace(b"\r\n", b"\n")
TOO_BIG_LF = f"of {len(COMPLETE_LF) / MIB:.1f} MiB is over the 4 MiB limit"


# -- the parser --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["attachment", "html", "short-lines"])
def test_a_10_mb_message_is_read_in_bounded_memory(shape: str) -> None:
    """A 10 MB invitation is read under MEMORY_LIMIT, or refused when its lines are more than
    MAX_MESSAGE_LINES; of a 10 MB HTML body only the first TEXT_LIMIT characters are searched
    for booking links."""
    raw = big_messages()[shape]
    result, peak = peak_memory(lambda: parse(raw))
    assert peak < MEMORY_LIMIT, f"{peak / MIB:.0f} MiB for {len(raw) / MIB:.0f} MiB"
    if shape == "short-lines":  # 5,000,000 lines: refused unparsed, warned by the pass
        assert result == Rejected("too-large", SHORT_LINES), result
        return
    assert isinstance(result, ParsedInvite), result
    assert [event.uid for event in result.events] == [f"{shape}-0"]
    assert peak < MEMORY_LIMIT, f"{peak / MIB:.0f} MiB for {len(raw) / MIB:.0f} MiB"
    if shape == "html":
        assert [link.url for link in result.booking_links] == [CANCEL]


@pytest.mark.parametrize(
    ("shape", "detail"),
    [("compact", TOO_MANY), ("complete", f"calendar part {TOO_BIG}")],
)
def test_a_calendar_of_100000_components_is_refused_unparsed(shape: str, detail: str) -> None:
    """100,000 VEVENTs are refused as too large before icalendar sees them: the components
    are counted (or the bytes measured) first, so the refusal costs little memory."""
    raw = huge_calendars()[shape]
    result, peak = peak_memory(lambda: parse(raw))
    assert result == Rejected("too-large", detail)
    assert peak < MEMORY_LIMIT, f"{peak / MIB:.0f} MiB for {len(raw) / MIB:.0f} MiB"


def test_folded_components_are_refused_in_bounded_memory() -> None:
    """100,000 VEVENTs whose BEGIN lines are folded are counted after unfolding and refused
    like unfolded ones, in bounded memory (they escaped the count and were all parsed)."""
    raw = mail("folded", compact_calendar("folded", folded=True))
    result, peak = peak_memory(lambda: parse(raw))
    assert isinstance(result, Rejected) and result.reason == "too-large", result
    assert peak < MEMORY_LIMIT, f"{peak / MIB:.0f} MiB for {len(raw) / MIB:.0f} MiB"


def test_folded_begin_lines_count_towards_the_component_limit() -> None:
    """MAX_COMPONENTS + 1 folded VEVENTs are refused like unfolded ones."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", "METHOD:REQUEST"]
    event = ["B", " EGIN:VEVENT", "UID:f", "DTSTART:20270110T140000Z", "END:VEVENT"]
    ical = "\r\n".join([*lines, *event * (MAX_COMPONENTS + 1), "END:VCALENDAR", ""]).encode()
    result = parse(mail("f", ical))
    assert isinstance(result, Rejected) and result.reason == "too-large", result


def test_a_message_of_too_many_lines_is_refused_before_parsing() -> None:
    """The email package keeps each line as a string (~70 bytes apiece: 2-byte lines cost 36
    times their size, so a 32 MiB Maildir file of them took ~1.1 GiB). Over MAX_MESSAGE_LINES
    a message is refused unparsed, in little memory; just under it, read within the bound."""
    over = invitation("over", plain="-\n" * MAX_MESSAGE_LINES)
    result, peak = peak_memory(lambda: parse(over))
    assert isinstance(result, Rejected) and result.reason == "too-large", result
    assert "lines is over the limit" in result.detail
    assert peak < MIB, f"{peak / MIB:.0f} MiB to refuse it"
    under = invitation("under", plain="-\n" * (MAX_MESSAGE_LINES - 1000))
    result, peak = peak_memory(lambda: parse(under))
    assert isinstance(result, ParsedInvite), result
    assert peak < MEMORY_LIMIT, f"{peak / MIB:.0f} MiB for {len(under) / MIB:.0f} MiB"


# -- whole passes ------------------------------------------------------------------------------


def over_the_read_limit(uid: str) -> bytes:
    """An invitation with an attachment that makes the message larger than MAX_MESSAGE_BYTES."""
    return invitation(uid, pdf=MAX_MESSAGE_BYTES * 3 // 4 + MIB)


def listed(config_path: Path) -> dict[str, dict[str, Any]]:
    """`invites --all --json --cached` by UID."""
    result = cli_run(config_path, "invites", "--all", "--json", "--cached")
    assert result.exit_code == 0, result.output
    return {row["uid"]: row for row in json.loads(result.stdout)}


def test_maildir_pass_over_big_mail(tmp_path: Path) -> None:
    """A Maildir pass reads two 10 MB invitations, and skips the two calendars of 100,000
    components, a message over the 32 MiB read limit and one of 5,000,000 lines, each with a
    warning naming folder and key; the pass stays under MEMORY_LIMIT."""
    tree = Tree(tmp_path)
    path = tree.config().source
    for name, raw in big_messages().items():
        if name != "short-lines":
            tree.add(raw)
    keys = {name: tree.add(raw) for name, raw in huge_calendars().items()}
    keys["over"] = tree.add(over_the_read_limit("over"))
    keys["short-lines"] = tree.add(big_messages()["short-lines"])
    first, peak = peak_memory(lambda: cli_run(path, "run", "--once"))
    assert first.exit_code == 0, first.output
    details = {
        "compact": TOO_MANY,
        "complete": f"calendar part {TOO_BIG_LF}",
        "over": "a message with a calendar, larger than the 32 MiB limit for reading one",
        "short-lines": SHORT_LINES,
    }
    for name, key in keys.items():
        line = f"folder INBOX key {key}: skipped an unreadable invitation (too-large: "
        assert f"skipped {line}{details[name]})" in first.stdout
        assert f"WARNING {line}{details[name]})" in first.stderr
    assert peak < MEMORY_LIMIT, f"{peak / MIB:.0f} MiB"
    found = listed(path)
    assert sorted(found) == ["attachment-0", "html-0"]
    assert [link["url"] for link in found["html-0"]["booking_links"]] == [CANCEL]


def test_imap_pass_over_big_mail(tmp_path: Path, dovecot: Dovecot, account: Account) -> None:
    """An IMAP pass fetches only the parts it needs: the 10 MB invitations and the one over
    the Maildir read limit are read (a text body over TEXT_FETCH_LIMIT is not fetched, so the
    big HTML body offers no link), and the calendars of 100,000 components are skipped with a
    warning naming folder and UID, the 22 MiB one without being downloaded."""
    for raw in big_messages().values():
        dovecot.append(account, "INBOX", raw)
    uids = {name: dovecot.append(account, "INBOX", raw) for name, raw in huge_calendars().items()}
    dovecot.append(account, "INBOX", over_the_read_limit("over"))
    path = corpus_config(dovecot, account, tmp_path).source
    first, peak = peak_memory(lambda: cli_run(path, "run", "--once"))
    assert first.exit_code == 0, first.output
    details = {
        "compact": TOO_MANY,
        "complete": f"calendar part 1 {TOO_BIG}",
    }
    for name, uid in uids.items():
        line = f"folder INBOX UID {uid}: skipped an unreadable invitation (too-large: "
        assert f"skipped {line}{details[name]})" in first.stdout
        assert f"WARNING {line}{details[name]})" in first.stderr
    assert first.stdout.count("skipped folder") == 2
    assert peak < MEMORY_LIMIT, f"{peak / MIB:.0f} MiB"
    found = listed(path)
    assert sorted(found) == ["attachment-0", "html-0", "over-0", "short-lines-0"]
    assert found["html-0"]["booking_links"] == []
