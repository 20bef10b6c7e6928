"""Flag to withdrawal, end to end: Dovecot + aiosmtpd delivering to the recruiter's mailbox."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import icalendar
import pytest

from decliner.service import wiring
from tests.testbed.helpers import flat_body
from tests.testbed.injection import INJECTIONS
from tests.testbed.mailfactory import google_invite, outlook_invite, robot_invite
from tests.testbed.world import SOON, Clock, World, outbox, run_pass

pytestmark = pytest.mark.servers


def reply_calendar(message: EmailMessage) -> icalendar.Calendar:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return icalendar.Calendar.from_ical(part.get_content())


def test_keyword_flag_google_invite_end_to_end(world: World) -> None:
    r"""A keyword-flagged Google invite: one threaded withdrawal to the organizer with a valid
    decline, a \Seen copy in Sent, the invite \Answered, status withdrawn; more passes send nothing."""
    raw, invite_id = google_invite(
        organizer=world.sam.address,
        organizer_name="Sam Recruiter",
        me=world.jane.address,
        uid="g1@google.com",
        start=SOON,
        summary="Interview with Acme",
    )
    uid = world.dovecot.append(world.jane, "INBOX", raw, keywords=["Decline"])
    world.config()
    for _ in range(5):
        result = world.cli("run", "--once")
        assert result.exit_code == 0, result.output
    assert len(world.sent_by_jane()) == 1
    [got] = world.received(world.sam)
    assert got["From"].addresses[0].addr_spec == world.jane.address
    assert [a.addr_spec for a in got["To"].addresses] == [world.sam.address]
    assert got["To"].addresses[0].display_name == "Sam Recruiter"
    assert got["In-Reply-To"] == invite_id
    assert invite_id in got["References"]
    assert got["Subject"].startswith("Re: Invitation: Interview with Acme")
    assert got.get_content_type() == "multipart/mixed"
    body = got.get_body(("plain",))
    assert body is not None and "Hi Sam," in body.get_content()
    cal = reply_calendar(got)
    assert cal["METHOD"] == "REPLY"
    [event] = cal.walk("VEVENT")
    assert str(event["UID"]) == "g1@google.com"
    assert event["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert "RSVP" not in event["ATTENDEE"].params
    assert not event.walk("VALARM")
    smtp_record = next(m for m in world.smtp.plain.messages if m.mail_from == world.jane.address)
    assert list(smtp_record.rcpt_tos) == [world.sam.address]
    with world.dovecot.imap(world.jane) as client:
        client.select_folder("Sent", readonly=True)
        sent = client.fetch(
            client.search(["ALL"]), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]
        )
        client.select_folder("INBOX", readonly=True)
        invite_flags = client.get_flags([uid])[uid]
    [copy] = sent.values()
    assert b"\\Seen" in copy[b"FLAGS"]
    assert got["Message-ID"].encode() in copy[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"]
    assert b"\\Answered" in invite_flags
    rows = json.loads(world.cli("invites", "--all", "--json", "--cached").stdout)
    assert [r["status"] for r in rows] == ["withdrawn"]


def test_config_glob_outlook_and_cli_flag_robot_reach_the_right_people(world: World) -> None:
    """An Outlook invite flagged by a [[cancel]] glob goes to its organizer; a robot-organized
    invite flagged from the CLI goes to the human Reply-To, never the robot."""
    pat = world.dovecot.new_account("pat")
    raw, _ = outlook_invite(
        organizer=pat.address,
        organizer_name="Lee, Pat",
        me=world.jane.address,
        uid="o1@outlook",
        start=SOON,
        summary="Technical screen - Initech",
    )
    world.dovecot.append(world.jane, "INBOX", raw)
    raw, robot_id = robot_invite(
        recruiter=world.sam.address,
        recruiter_name="Sam Recruiter",
        me=world.jane.address,
        uid="r1@greenhouse",
        start=SOON + timedelta(days=1),
    )
    world.dovecot.append(world.jane, "INBOX", raw)
    world.config(extra='\n[[cancel]]\nsummary = "*initech*"\n')
    assert world.cli("invites", "--json").exit_code == 0
    rows = {r["uid"]: r for r in json.loads(world.cli("invites", "--json", "--cached").stdout)}
    assert rows["o1@outlook"]["flagged_by"] == "config"
    assert rows["r1@greenhouse"]["recipient"] == world.sam.address
    flagged = world.cli(
        "flag", rows["r1@greenhouse"]["id"][:6], "--reason", "I have accepted another offer"
    )
    assert flagged.exit_code == 0, flagged.output
    assert world.cli("run", "--once").exit_code == 0
    [to_pat] = world.received(pat)
    assert "Hi Pat," in flat_body(to_pat)
    [to_sam] = world.received(world.sam)
    assert to_sam["In-Reply-To"] == robot_id
    assert "I have accepted another offer." in flat_body(to_sam)
    assert all(
        "no-reply@greenhouse-mail.example" not in m.rcpt_tos for m in world.smtp.plain.messages
    )


def test_unflag_within_grace_sends_nothing(world: World) -> None:
    """Flag, pass, unflag within the grace period, pass after it: nothing sent, the row says why."""
    uid = world.invite("u@g")[0]
    config = world.config(grace="5m")
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    [row] = outbox(config)
    assert (row.state, row.due) == ("scheduled", row.created + timedelta(minutes=5))
    with world.dovecot.imap(world.jane) as client:
        client.select_folder("INBOX")
        client.remove_flags([uid], ["Decline"])
    clock.now += timedelta(minutes=2)
    run_pass(config, clock)
    clock.now += timedelta(minutes=10)
    run_pass(config, clock)
    [row] = outbox(config)
    assert (row.state, row.cancel_reason, row.attempts) == ("cancelled", "unflagged", 0)
    assert world.sent_by_jane() == []
    assert world.received(world.sam) == []


def test_unflag_command_cancels_in_grace(world: World) -> None:
    """`decliner unflag` removes the keyword on the server and cancels the scheduled withdrawal."""
    uid = world.invite("u2@g")[0]
    config = world.config(grace="1h")
    run_pass(config, wiring.utcnow)
    event_id = outbox(config)[0].event_id
    result = world.cli("unflag", event_id)
    assert result.exit_code == 0, result.output
    assert "nothing will be sent" in result.output
    with world.dovecot.imap(world.jane) as client:
        client.select_folder("INBOX", readonly=True)
        assert b"Decline" not in client.get_flags([uid])[uid]
    assert [r.state for r in outbox(config)] == ["cancelled"]


def test_past_interview_is_missed_and_short_notice_apologises(world: World) -> None:
    """A flagged interview that has begun is `missed` with nothing sent; one 3 hours away is
    sent with the short-notice apology."""
    past, _ = google_invite(
        organizer=world.sam.address,
        organizer_name="Sam",
        me=world.jane.address,
        uid="past@g",
        start=datetime.now(UTC) - timedelta(hours=1),
    )
    soon, _ = google_invite(
        organizer=world.sam.address,
        organizer_name="Sam",
        me=world.jane.address,
        uid="soon@g",
        start=datetime.now(UTC) + timedelta(hours=3),
    )
    world.dovecot.append(world.jane, "INBOX", past, keywords=["Decline"])
    world.dovecot.append(world.jane, "INBOX", soon, keywords=["Decline"])
    world.config()
    assert world.cli("run", "--once").exit_code == 0
    rows = {
        r["uid"]: r for r in json.loads(world.cli("invites", "--all", "--json", "--cached").stdout)
    }
    assert rows["past@g"]["status"] == "missed"
    assert rows["soon@g"]["status"] == "withdrawn"
    [got] = world.received(world.sam)
    assert "short notice" in flat_body(got)


def test_temporary_failure_then_success(world: World) -> None:
    """SMTP 451 then 250: one message delivered, two attempts recorded."""
    world.invite("t@g")
    config = world.config()
    clock = Clock(datetime.now(UTC))
    world.smtp.plain.fail_next(451, "Try again later", count=1)
    run_pass(config, clock)
    [row] = outbox(config)
    assert (row.state, row.attempts, row.last_outcome) == ("pending", 1, "temporary")
    assert row.last_error is not None and row.last_error.startswith("451")
    run_pass(config, clock)  # the retry is not due yet: nothing happens
    assert outbox(config)[0].attempts == 1
    clock.now += timedelta(seconds=31)
    run_pass(config, clock)
    row, followup = outbox(config)
    assert (followup.kind, followup.state) == ("followup", "scheduled")
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(world.received(world.sam)) == 1


def test_permanent_failure_is_recorded_and_not_retried(world: World) -> None:
    """SMTP 550: the row is failed with the server's reply; later passes send nothing."""
    world.invite("p@g")
    world.config()
    world.smtp.plain.fail_next(550, "Mailbox unavailable", count=1)
    result = world.cli("run", "--once")
    assert result.exit_code == 1
    assert "550" in result.output
    for _ in range(2):
        world.cli("run", "--once")
    config = world.config()
    [row] = outbox(config)
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.last_error == "550 Mailbox unavailable"
    assert world.received(world.sam) == []


def test_cut_after_data_is_resent_with_the_same_bytes(world: World) -> None:
    """A connection cut after DATA: the retry checks Sent, then resends the same bytes and Message-ID."""
    world.invite("c@g")
    config = world.config()
    clock = Clock(datetime.now(UTC))
    world.smtp.plain.cut_after_data_next(1)
    run_pass(config, clock)
    [row] = outbox(config)
    assert (row.state, row.last_outcome) == ("pending", "cut")
    clock.now += timedelta(seconds=31)
    run_pass(config, clock)
    row, followup = outbox(config)
    assert (followup.kind, followup.state) == ("followup", "scheduled")
    assert (row.state, row.attempts) == ("sent", 2)
    cut = [data for reason, data in world.smtp.plain.rejected if reason == "cut"]
    [delivered] = world.sent_by_jane()
    assert row.raw is not None
    assert cut[-1].replace(b"\r\n", b"\n").strip() == row.raw.replace(b"\r\n", b"\n").strip()
    assert delivered.replace(b"\r\n", b"\n").strip() == row.raw.replace(b"\r\n", b"\n").strip()


def test_provider_filed_copy_means_no_resend(world: World) -> None:
    """When the cut attempt did go through and the provider filed it in Sent, nothing is resent."""
    world.invite("f@g")
    config = world.config()
    clock = Clock(datetime.now(UTC))
    world.smtp.plain.cut_after_data_next(1)
    run_pass(config, clock)
    [row] = outbox(config)
    assert row.raw is not None
    world.dovecot.append(world.jane, "Sent", row.raw, flags=["\\Seen"])  # as Gmail would file it
    clock.now += timedelta(seconds=31)
    run_pass(config, clock)
    row, followup = outbox(config)
    assert (followup.kind, followup.state) == ("followup", "scheduled")
    assert (row.state, row.attempts) == ("sent", 1)
    assert world.sent_by_jane() == []
    assert len(world.dovecot.fetch_all(world.jane, "Sent")) == 1


def bare_invite(*, subject: str, summary: str, cn: str, organizer: str, me: str) -> bytes:
    """A single-part text/calendar invite with the given raw field values."""
    start = SOON.strftime("%Y%m%dT%H%M%SZ")
    end = (SOON + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    return (
        f"From: Sam <{organizer}>\r\nTo: {me}\r\nSubject: {subject}\r\n"
        f"Message-ID: <inj@acme.example>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/calendar; charset=UTF-8; method=REQUEST\r\n\r\n"
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        f"UID:inj@acme\r\nDTSTAMP:20261120T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f'SUMMARY:{summary}\r\nORGANIZER;CN="{cn}":mailto:{organizer}\r\n'
        f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{me}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.parametrize("payload", INJECTIONS)
def test_header_injection_adds_no_header_and_no_recipient(world: World, payload: str) -> None:
    """Payloads in summary, organizer name and subject: no extra header, no extra envelope recipient."""
    raw = bare_invite(
        subject=payload.replace("\r", "").replace(
            "\n", " "
        ),  # a raw newline would end the header here
        summary=payload.replace("\r", "\\r").replace("\n", "\\n"),  # iCalendar's escaped newline
        cn=payload.replace("\r\n", "^n").replace("\n", "^n"),  # RFC 6868's newline in a parameter
        organizer=world.sam.address,
        me=world.jane.address,
    )
    world.dovecot.append(world.jane, "INBOX", raw, keywords=["Decline"])
    world.config()
    assert world.cli("run", "--once").exit_code == 0
    [sent] = world.sent_by_jane()
    record = next(m for m in world.smtp.plain.messages if m.mail_from == world.jane.address)
    assert list(record.rcpt_tos) == [world.sam.address]
    parsed = email.message_from_bytes(sent, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert (
        "attacker.example" in parsed["Subject"] or "X-Injected" in parsed["Subject"]
    )  # carried, defused
    assert {k.lower() for k in parsed} <= {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }


def test_preview_before_and_after_sending(world: World) -> None:
    """`preview` works before flagging (nothing stored or sent), then shows the exact stored bytes."""
    world.invite("pv@g", flagged=False)
    config = world.config()
    assert world.cli("invites").exit_code == 0
    event_id = json.loads(world.cli("invites", "--json", "--cached").stdout)[0]["id"]
    shown = world.cli("preview", event_id[:6])
    assert shown.exit_code == 0, shown.output
    assert f"From: Jane Doe <{world.jane.address}>" in shown.stdout
    assert f"To: Sam <{world.sam.address}>" in shown.stdout
    assert "Subject: Re: Invitation: Interview" in shown.stdout
    assert "Hi Sam," in shown.stdout
    assert "REPLY" in shown.stdout and "DECLINED" in shown.stdout
    assert outbox(config) == [] and world.sent_by_jane() == []
    early = world.cli("preview", event_id, "--followup")
    assert early.exit_code == 2 and "withdrawal to be sent first" in early.stderr
    assert world.cli("flag", event_id).exit_code == 0
    assert world.cli("run", "--once").exit_code == 0
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    raw = world.cli("preview", event_id, "--raw")
    assert raw.stdout_bytes == row.raw
    assert f"Message-ID: {row.message_id}" in world.cli("preview", event_id).stdout


def test_ambiguous_and_unknown_event_ids(world: World) -> None:
    """An unknown EVENT or an ambiguous prefix is a usage error listing the candidates."""
    for n in range(17):  # 17 ids over 16 hex digits: two share a first digit
        world.invite(f"amb{n}@g", flagged=False)
    world.config()
    assert world.cli("invites").exit_code == 0
    ids = [r["id"] for r in json.loads(world.cli("invites", "--json", "--cached").stdout)]
    first = max("0123456789abcdef", key=lambda d: sum(i.startswith(d) for i in ids))
    shared = [i for i in ids if i.startswith(first)]
    assert len(shared) > 1
    unknown = world.cli("flag", "zzzz")
    assert unknown.exit_code == 2 and "no invitation matches" in unknown.stderr
    ambiguous = world.cli("flag", first)
    assert ambiguous.exit_code == 2
    assert "ambiguous" in ambiguous.stderr and shared[0] in ambiguous.stderr
    by_uid = world.cli("flag", "amb3@g")
    assert by_uid.exit_code == 0, by_uid.output


def test_missing_sent_folder_delays_only_the_copy(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A sent folder that does not exist: the withdrawal still goes, the pass completes, and the
    copy is filed once the folder exists."""
    world.invite("sf@g")
    config = world.config()
    text = config.source.read_text().replace(
        'timeout = "10s"\n', 'timeout = "10s"\nsent_folder = "Outgoing"\n', 1
    )
    config.source.write_text(text)
    result = world.cli("run", "--once")
    assert result.exit_code == 0, result.output
    assert len(world.received(world.sam)) == 1
    assert "cannot file the sent copy" in caplog.text
    with world.dovecot.imap(world.jane) as client:
        client.create_folder("Outgoing")
    assert world.cli("run", "--once").exit_code == 0
    assert len(world.dovecot.fetch_all(world.jane, "Outgoing")) == 1
    assert len(world.received(world.sam)) == 1
