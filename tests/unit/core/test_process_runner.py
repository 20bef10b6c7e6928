"""One hiring process, one letter (SPEC 18), over the runner's in-memory ports and the real
SQLite store: the letter names every upcoming interview, the others get their own REPLY
message to their organizer, all become `withdrawn`, and nothing goes twice."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, event_id
from decliner.mail.ports import SendResult
from decliner.service import listing, state_db
from decliner.store import flags as flag_db
from tests.testbed.mailfactory import calendar
from tests.testbed.memory_ports import CONFIG, START, Bench, make_bench
from tests.testbed.records import interview_record

KIM = Address("kim@acme.example", "Kim Lee")


def interview(uid: str, day: int, *, organizer: Address | None = None) -> EventRecord:
    """An interview of Acme's process (one mail thread), `day` days after START."""
    start = START + timedelta(days=day)
    record = interview_record(
        start, event_id=event_id(uid), uid=uid, summary=f"Acme {uid}", invite_uid=day
    )
    who = organizer or record.organizer
    assert who is not None
    ical = calendar(
        uid=uid,
        start=start,
        summary=f"Acme {uid}",
        organizer=who.email,
        organizer_name=who.name,
        me="jane@example.com",
    )
    invite = replace(record.invite, message_id=f"<{uid}@acme.example>", references=("<t@acme>",))
    return replace(record, organizer=who, ical=ical, invite=invite)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(raw: bytes) -> str:
    part = parsed(raw).get_body(("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


THREE = ("screen", "tech", "onsite")


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    """Three interviews of one process (one thread), the onsite organized by Kim."""
    events = [interview("screen", 3), interview("tech", 5), interview("onsite", 8, organizer=KIM)]
    return make_bench(tmp_path, events)


def flag(bench: Bench, uid: str, scope: str = "") -> None:
    with bench.store.transaction() as conn:
        flag_db.set_cli_flag(conn, event_id(uid), "", "", bench.clock.now, scope=scope)


def statuses(bench: Bench) -> dict[str, str]:
    views = listing.invites(bench.runner.config, bench.store, bench.clock.now, include_past=True)
    return {v.event.uid: v.status for v in views}


def test_one_flag_withdraws_from_the_whole_process_in_one_letter(bench: Bench) -> None:
    """The letter goes to the flagged event's organizer and names all three dates; the two
    others get their own REPLY message, threaded under their own invitation; all three are
    withdrawn and their invitations answered; further passes send nothing."""
    flag(bench, "tech")
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.run()
    sent = [parsed(raw) for raw, _ in bench.transport.attempts]
    assert [m["To"].addresses[0].addr_spec for m in sent] == [
        "sam@acme.example",
        "sam@acme.example",
        "kim@acme.example",
    ]
    letter, *replies = sent
    body = text_of(bench.transport.attempts[0][0])
    for day in (4, 6, 9):  # 3, 5 and 8 days after Tuesday 1 December
        assert f"{day} December 2026" in body
    assert "my interviews" in body
    assert letter["In-Reply-To"] == "<tech@acme.example>"
    assert [m["Subject"] for m in replies] == ["Declined: Acme screen", "Declined: Acme onsite"]
    assert [m["In-Reply-To"] for m in replies] == ["<screen@acme.example>", "<onsite@acme.example>"]
    for message in replies:
        [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert "PARTSTAT=DECLINED" in part.get_content()
    assert statuses(bench) == dict.fromkeys(THREE, "withdrawn")
    assert sorted(bench.mailbox.answered) == [("INBOX", 3), ("INBOX", 5), ("INBOX", 8)]
    kinds = sorted((r.kind, r.state) for r in bench.all_rows())
    assert kinds == [
        ("decline", "sent"),
        ("decline", "sent"),
        ("followup", "scheduled"),
        ("withdrawal", "sent"),
    ]


def test_flags_on_two_events_within_the_grace_make_one_letter(bench: Bench) -> None:
    """A second flag in the grace window joins the first letter; the first's grace counts."""
    flag(bench, "onsite")
    bench.run()
    bench.clock.now += timedelta(minutes=3)
    flag(bench, "screen")
    bench.run()
    assert bench.transport.attempts == []
    bench.clock.now += timedelta(minutes=2)
    bench.run()
    withdrawals = [r for r in bench.all_rows() if r.kind == "withdrawal"]
    assert [(r.event_id, r.state) for r in withdrawals if r.state != "cancelled"] == [
        (event_id("onsite"), "sent")
    ]
    assert len(bench.transport.attempts) == 3  # the letter and two REPLY messages
    assert statuses(bench) == dict.fromkeys(THREE, "withdrawn")


def test_a_reply_message_that_fails_is_retried_alone(bench: Bench) -> None:
    """A 4xx on one REPLY message leaves it pending: the next pass sends it once more with
    the same bytes, and the letter is not sent again."""
    bench.transport.outcomes = [SendResult("sent"), SendResult("temporary", "421 busy")]
    flag(bench, "screen")
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.clock.now += timedelta(minutes=1)
    bench.run()
    raws = [raw for raw, _ in bench.transport.attempts]
    assert len(raws) == 4
    assert raws[1] == raws[3]
    assert len({parsed(r)["Message-ID"] for r in raws}) == 3


def test_scope_interview_withdraws_the_flagged_event_only(bench: Bench) -> None:
    """With scope "interview" one letter about that interview, which says the user remains
    interested in the role; the others stay booked."""
    flag(bench, "tech", scope="interview")
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    [(raw, _)] = bench.transport.attempts
    assert "I remain interested in the role." in text_of(raw)
    assert "my interview " in text_of(raw)
    assert statuses(bench) == {"screen": "upcoming", "tech": "withdrawn", "onsite": "upcoming"}


def test_an_interview_already_past_is_not_named_or_declined(bench: Bench) -> None:
    """Four days on, the screen is over: the letter names the two left, one REPLY goes."""
    bench.clock.now += timedelta(days=4)
    flag(bench, "tech")
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    assert len(bench.transport.attempts) == 2
    body = text_of(bench.transport.attempts[0][0])
    assert "4 December" not in body and "6 December" in body and "9 December" in body


def test_a_later_invitation_for_a_withdrawn_process_is_not_answered(tmp_path: Path) -> None:
    """An invitation that arrives after the letter went joins the process, is not declined,
    and is reported as late (for the log and `check`)."""
    bench = make_bench(tmp_path, [interview("screen", 3)])
    flag(bench, "screen")
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.mailbox.events = [interview("final", 10)]
    bench.run()
    assert len(bench.transport.attempts) == 1
    assert statuses(bench) == {"screen": "withdrawn", "final": "upcoming"}
    assert bench.runner.late == {event_id("final"): event_id("screen")}
    [warning] = state_db.late(bench.runner.config, bench.store, bench.clock.now)
    assert event_id("final") in warning and "not answered" in warning


def test_a_config_scope_interview_keeps_letters_apart(tmp_path: Path) -> None:
    """`withdrawal.scope = "interview"` in the config: each flagged event its own letter."""
    config = CONFIG.replace('grace = "5m"', 'grace = "5m"\nscope = "interview"')
    bench = make_bench(tmp_path, [interview("screen", 3), interview("tech", 5)], config)
    flag(bench, "screen")
    flag(bench, "tech")
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    assert len(bench.transport.attempts) == 2
    assert all("Declined" not in parsed(r)["Subject"] for r, _ in bench.transport.attempts)
