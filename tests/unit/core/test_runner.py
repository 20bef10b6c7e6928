"""The runner over in-memory versions of decliner's own ports: a mailbox that remembers
what was filed and marked, a transport that answers as told. The state db is the real
SQLite store; no server is involved (the integration tests cover those)."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest

from decliner.core.plan.events import EventRecord, event_id
from decliner.mail.ports import SendResult
from decliner.store import flags as flag_db
from tests.testbed.memory_ports import START, Bench, make_bench
from tests.testbed.records import interview_record


def interview(uid: str = "u1") -> EventRecord:
    return interview_record(
        START + timedelta(days=3),
        event_id=event_id(uid),
        uid=uid,
        summary="Interview with Acme",
        invite_uid=4,
    )


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    """A runner whose state db already knows the invitation, before any test flags it."""
    return make_bench(tmp_path, [interview()])


def flag(bench: Bench, uid: str = "u1") -> None:
    with bench.store.transaction() as conn:
        flag_db.set_cli_flag(conn, event_id(uid), "", "", bench.clock.now)


def test_a_flag_waits_for_its_grace_then_sends_once_files_and_queues_the_followup(
    bench: Bench,
) -> None:
    """Nothing goes during the grace period; then one withdrawal to the organizer, filed in
    the sent folder, the invitation marked answered, the follow-up queued; a further pass
    sends nothing."""
    flag(bench)
    bench.run()
    assert bench.transport.attempts == []
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.run()
    [(raw, to)] = bench.transport.attempts
    assert to == ("sam@acme.example",)
    rows = bench.rows()
    assert rows["withdrawal"].state == "sent"
    assert rows["withdrawal"].copied
    assert list(bench.mailbox.sent.values()) == [raw]
    assert bench.mailbox.answered == [("INBOX", 4)]
    assert rows["followup"].state == "scheduled"
    assert rows["followup"].due == START + timedelta(days=1, minutes=5)


def test_the_followup_answers_in_the_thread_a_day_later(bench: Bench) -> None:
    """The follow-up goes once its day has passed, In-Reply-To the withdrawal."""
    flag(bench)
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.clock.now += timedelta(days=1)
    bench.run()
    withdrawal, followup = (
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw, _ in bench.transport.attempts
    )
    assert followup["In-Reply-To"] == withdrawal["Message-ID"]
    assert bench.rows()["followup"].state == "sent"


def test_a_temporary_failure_is_retried_with_the_same_bytes_after_the_backoff(
    bench: Bench,
) -> None:
    """A 4xx leaves the row pending; before the backoff nothing is tried, after it the same
    bytes go again."""
    bench.transport.outcomes = [SendResult("temporary", "421 busy")]
    flag(bench)
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.clock.now += timedelta(seconds=29)
    bench.run()
    assert len(bench.transport.attempts) == 1
    bench.clock.now += timedelta(seconds=1)
    bench.run()
    first, second = bench.transport.attempts
    assert first == second
    assert bench.rows()["withdrawal"].attempts == 2


def test_a_cut_attempt_found_in_the_sent_folder_is_not_sent_again(bench: Bench) -> None:
    """After a cut DATA the sent folder is searched; the message is there, so it counts as
    sent without a second attempt, and its follow-up is queued."""
    bench.transport.outcomes = [SendResult("cut", "connection lost")]
    flag(bench)
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    [(raw, _)] = bench.transport.attempts
    message = email.message_from_bytes(raw, policy=email.policy.default)
    bench.mailbox.sent[str(message["Message-ID"])] = raw  # the provider filed it
    bench.clock.now += timedelta(minutes=1)
    bench.run()
    assert len(bench.transport.attempts) == 1
    assert bench.rows()["withdrawal"].state == "sent"
    assert "followup" in bench.rows()


def test_a_cut_attempt_not_in_the_sent_folder_is_resent_with_the_same_bytes(
    bench: Bench,
) -> None:
    """The sent folder does not have it: the same bytes and Message-ID go once more."""
    bench.transport.outcomes = [SendResult("cut", "connection lost")]
    flag(bench)
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.clock.now += timedelta(minutes=1)
    bench.run()
    first, second = bench.transport.attempts
    assert first == second
    assert list(bench.mailbox.sent.values()) == [first[0]]


def test_a_permanent_refusal_fails_the_row_and_is_never_retried(bench: Bench) -> None:
    """A 5xx ends the row as failed, with the server's reason; no later pass tries again."""
    bench.transport.outcomes = [SendResult("permanent", "550 no such user")]
    flag(bench)
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    bench.clock.now += timedelta(hours=1)
    bench.run()
    assert len(bench.transport.attempts) == 1
    row = bench.rows()["withdrawal"]
    assert (row.state, row.last_error) == ("failed", "550 no such user")
    assert "followup" not in bench.rows()


def test_unflagged_within_the_grace_period_nothing_is_sent(bench: Bench) -> None:
    """Undo within grace cancels the row; the transport is never called."""
    flag(bench)
    bench.run()
    with bench.store.transaction() as conn:
        flag_db.remove_cli_flag(conn, event_id("u1"))
    bench.clock.now += timedelta(minutes=5)
    bench.run()
    assert bench.transport.attempts == []
    row = bench.rows()["withdrawal"]
    assert (row.state, row.cancel_reason) == ("cancelled", "unflagged")
