"""The follow-up and the thread log, end to end on Dovecot + aiosmtpd."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

import pytest

from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.helpers import flat_body, followup_at_any_time
from tests.testbed.world import Clock, World, outbox, run_pass

pytestmark = pytest.mark.servers


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def flagged_invite(world: World, uid: str = "fu@g") -> str:
    """A flagged invite from Sam Recruiter; its Message-ID."""
    return world.invite(uid, name="Sam Recruiter")[1]


def reply_from_sam(world: World, to_message: EmailMessage) -> bytes:
    """Sam's answer to our withdrawal, as their mail client would write it."""
    msg = EmailMessage()
    msg["From"] = f"Sam Recruiter <{world.sam.address}>"
    msg["To"] = world.jane.address
    msg["Subject"] = f"Re: {to_message['Subject']}".replace("Re: Re: ", "Re: ")
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="acme.example")
    msg["In-Reply-To"] = to_message["Message-ID"]
    msg["References"] = f"{to_message['References']} {to_message['Message-ID']}"
    msg.set_content("Thanks for letting us know, Jane. Best of luck!\n")
    return msg.as_bytes()


def test_followup_after_the_delay_exactly_once(world: World) -> None:
    """After the delay, one follow-up to the same recipient, threaded under the withdrawal."""
    invite_id = flagged_invite(world)
    config = world.config(extra=followup_at_any_time())
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    run_pass(config, clock)  # schedules the follow-up
    [withdrawal] = world.received(world.sam)
    clock.now += timedelta(hours=23)
    run_pass(config, clock)
    assert len(world.received(world.sam)) == 1
    clock.now += timedelta(hours=2)
    for _ in range(3):
        run_pass(config, clock)
    withdrawal, followup = world.received(world.sam)
    assert followup["In-Reply-To"] == withdrawal["Message-ID"]
    assert (
        invite_id in followup["References"] and withdrawal["Message-ID"] in followup["References"]
    )
    assert followup["Subject"] == withdrawal["Subject"]
    assert [a.addr_spec for a in followup["To"].addresses] == [world.sam.address]
    assert "Thank you for your reply" not in flat_body(followup)


def test_followup_due_while_down_is_sent_at_next_start(world: World) -> None:
    """The daemon down across the due time: a new process sends the follow-up once."""
    flagged_invite(world, "down@g")
    config = world.config(extra=followup_at_any_time())
    # The last passes before going down ran two days ago: the follow-up fell due yesterday.
    clock = Clock(datetime.now(UTC) - timedelta(days=2))
    run_pass(config, clock)
    run_pass(config, clock)
    assert len(world.received(world.sam)) == 1
    [followup] = [r for r in outbox(config) if r.kind == "followup"]
    assert followup.state == "scheduled" and followup.due < datetime.now(UTC)
    args = [
        sys.executable,
        "-m",
        "decliner",
        "--config",
        str(world.tmp / "config.toml"),
        "run",
        "--once",
    ]
    for _ in range(2):
        assert subprocess.run(args, check=False, capture_output=True).returncode == 0
    assert len(world.received(world.sam)) == 2


def test_reply_is_logged_and_answered(world: World) -> None:
    """A reply before the follow-up: logged as `in`; the follow-up answers it and thanks them;
    the recruiter's mailbox threads all three; `log --json` matches what the server received."""
    flagged_invite(world, "rep@g")
    config = world.config(extra=followup_at_any_time())
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    [withdrawal] = world.received(world.sam)
    reply = reply_from_sam(world, withdrawal)
    world.dovecot.deliver(world.jane.address, reply)
    world.dovecot.append(world.sam, "INBOX", reply)  # the recruiter keeps their own message too
    run_pass(config, clock)
    clock.now += timedelta(days=1, minutes=1)
    run_pass(config, clock)
    mails = world.received(world.sam)
    followup = mails[-1]
    assert followup["In-Reply-To"] == parse(reply)["Message-ID"]
    assert parse(reply)["Message-ID"] in followup["References"]
    assert "Thank you for your reply" in flat_body(followup)
    with world.dovecot.imap(world.sam) as client:
        client.select_folder("INBOX", readonly=True)
        threads = client.thread("REFERENCES")
    assert len(threads) == 1 and len(_flatten(threads[0])) == 3

    rows = json.loads(world.cli("log", "--json").stdout)
    assert [(r["direction"], r["kind"], r["state"]) for r in rows] == [
        ("out", "withdrawal", "sent"),
        ("in", "reply", "received"),
        ("out", "followup", "sent"),
    ]
    received = [
        parse(m.data) for m in world.smtp.plain.messages if m.mail_from == world.jane.address
    ]
    ours = [r for r in rows if r["direction"] == "out"]
    assert [r["message_id"] for r in ours] == [m["Message-ID"] for m in received]
    for row, message in zip(ours, received, strict=True):
        assert row["to"] == [a.addr_spec for a in message["To"].addresses]
        assert row["subject"] == message["Subject"]
        assert row["in_reply_to"] == message["In-Reply-To"]
        assert row["attempts"] == 1 and row["error"] is None
        assert datetime.fromisoformat(row["date"]).utcoffset() is not None
    assert rows[1]["from"] == world.sam.address
    assert rows[1]["in_reply_to"] == withdrawal["Message-ID"]
    text = world.cli("log").stdout
    assert "reply" in text and world.sam.address in text


def _flatten(thread: tuple[object, ...]) -> list[int]:
    found: list[int] = []
    for item in thread:
        found += _flatten(item) if isinstance(item, tuple) else [int(item)]  # type: ignore[call-overload]
    return found


def test_skip_if_replied_cancels_the_followup(world: World) -> None:
    """With skip_if_replied, a reply cancels the follow-up and the log says why."""
    flagged_invite(world, "skip@g")
    config = world.config(extra=followup_at_any_time() + "skip_if_replied = true\n")
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    run_pass(config, clock)
    [withdrawal] = world.received(world.sam)
    world.dovecot.deliver(world.jane.address, reply_from_sam(world, withdrawal))
    clock.now += timedelta(days=2)
    run_pass(config, clock)
    run_pass(config, clock)
    assert len(world.received(world.sam)) == 1
    with wiring.open_store(config) as store:
        followup = next(r for r in outbox_db.rows(store.connection) if r.kind == "followup")
    assert (followup.state, followup.cancel_reason) == ("cancelled", "replied")
    rows = json.loads(world.cli("log", "--json").stdout)
    assert rows[-1]["kind"] == "followup" and rows[-1]["state"] == "cancelled"
    assert "they replied" in world.cli("log").stdout


def test_followup_disabled_queues_nothing(world: World) -> None:
    """followup.enabled = false: after the withdrawal, nothing is queued."""
    flagged_invite(world, "off@g")
    config = world.config(extra="\n[followup]\nenabled = false\n")
    clock = Clock(datetime.now(UTC))
    for _ in range(3):
        run_pass(config, clock)
        clock.now += timedelta(days=3)
    with wiring.open_store(config) as store:
        assert [r.kind for r in outbox_db.rows(store.connection)] == ["withdrawal"]


def test_followup_is_queued_by_the_pass_that_sends_the_withdrawal(world: World) -> None:
    """SPEC 8: right after the pass that sent the withdrawal, `log` shows the follow-up as
    `scheduled` at sent + delay moved to the next business slot (Friday 16:30 + 1 day, a
    Saturday, becomes Monday 09:00 in the account's zone)."""
    berlin = ZoneInfo("Europe/Berlin")
    friday = datetime.now(berlin).date() + timedelta(days=(4 - datetime.now(berlin).weekday()) % 7)
    sent_at = datetime.combine(friday + timedelta(days=7), dtime(16, 30), tzinfo=berlin)
    world.invite("queued@g", start=sent_at + timedelta(days=10))
    config = world.config(extra='\n[followup]\ndelay = "1d"\nbusiness_hours = "09:00-17:00"\n')
    run_pass(config, Clock(sent_at))
    rows = json.loads(world.cli("log", "--json").stdout)
    assert [(r["kind"], r["state"]) for r in rows] == [
        ("withdrawal", "sent"),
        ("followup", "scheduled"),
    ]
    monday = datetime.combine(sent_at.date() + timedelta(days=3), dtime(9), tzinfo=berlin)
    assert datetime.fromisoformat(rows[1]["date"]) == monday
    assert len(world.received(world.sam)) == 1
