"""The SMTP fault matrix (issue 17, SPEC 5): each server answer classified as SPEC says,
on the real aiosmtpd test server: a temporary failure waits and is sent once later, a
permanent one fails the row with the server's reply and nothing is sent again, and a cut
after the data is resent with the same Message-ID only after the sent folder is searched."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest

from tests.world import Clock, World, outbox, run_pass

pytestmark = pytest.mark.servers

CASES = [
    ("rcpt", 451, "pending", "temporary"),
    ("rcpt", 450, "pending", "temporary"),
    ("rcpt", 550, "failed", "permanent"),
    ("rcpt", 553, "failed", "permanent"),
    ("data", 421, "pending", "temporary"),
    ("data", 452, "pending", "temporary"),
    ("data", 552, "failed", "permanent"),
    ("data", 554, "failed", "permanent"),
    ("cut", 0, "pending", "cut"),
]


@pytest.mark.parametrize(("phase", "code", "state", "outcome"), CASES)
def test_each_answer_is_classified_and_never_sends_twice(
    world: World, phase: str, code: int, state: str, outcome: str
) -> None:
    """One fault, then the passes that follow: the right state and outcome after the fault,
    and in the end one withdrawal delivered (or none after a refusal), with one Message-ID."""
    world.invite(f"fault-{phase}-{code}@example.com")
    config = world.config()
    clock = Clock(datetime.now(UTC))
    if phase == "rcpt":
        world.smtp.plain.fail_rcpt_next(code, "fault under test")
    elif phase == "data":
        world.smtp.plain.fail_next(code, "fault under test")
    else:
        world.smtp.plain.cut_after_data_next()
    run_pass(config, clock)
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    assert (row.state, row.last_outcome, row.attempts) == (state, outcome, 1)
    if code:
        assert row.last_error is not None and row.last_error.startswith(str(code))
    for _ in range(3):
        clock.now += timedelta(hours=1)
        run_pass(config, clock)
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    got = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in world.dovecot.fetch_all(world.sam, "INBOX")
    ]
    if state == "failed":
        assert (row.state, row.attempts) == ("failed", 1)
        assert got == []
    else:
        assert (row.state, row.attempts) == ("sent", 2)
        assert [str(m["Message-ID"]) for m in got] == [row.message_id]
