"""The Maildir source on real Maildir++ trees in temp dirs: scan, flag by folder, send, reply."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import mailbox
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import icalendar
import pytest

from decliner import config as cfg
from decliner.core.parse.invites import parse_message
from decliner.core.parse.mime import may_hold_calendar
from decliner.core.parse.model import ParsedInvite, Rejected
from decliner.errors import ConfigError
from decliner.mail.maildir import MaildirSource, folder_path
from decliner.service import passes, wiring
from decliner.store import events as event_db
from decliner.store import mailbox as mailbox_db
from tests.testbed.helpers import (
    assert_corpus_events,
    corpus_files,
    corpus_rejected_files,
    followup_at_any_time,
)
from tests.testbed.maildir_tree import (
    BERLIN_ZONE,
    ME,
    SAM,
    SOON,
    Tree,
    invite,
    invites_json,
    outbox,
    run_pass,
)
from tests.testbed.mailfactory import outlook_invite, robot_invite
from tests.testbed.world import Clock


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


# -- scanning ----------------------------------------------------------------


def test_corpus_through_maildir(tree: Tree, caplog: pytest.LogCaptureFixture) -> None:
    """Every corpus file read from a Maildir lands as expected.toml says, as over IMAP:
    updates win, cancels mark, and malformed ones are skipped with a warning naming folder and key."""
    keys = {path.name: tree.add(path.read_bytes()) for path in corpus_files()}
    config = tree.config()
    with wiring.open_store(config) as store, caplog.at_level(logging.WARNING):
        report = passes.scan(config, store)
        found = {(e.uid, e.recurrence_id): e for e in event_db.all_events(store.connection)}
    assert report.new_messages == len(keys)
    for name in corpus_rejected_files():
        label = f"folder INBOX key {keys[name]}: skipped"
        assert any(label in r.getMessage() for r in caplog.records), name
    assert_corpus_events(found)


def test_prefilter_never_hides_a_calendar() -> None:
    """`may_hold_calendar` is true for every corpus file and scheduler shape that has a calendar."""
    shapes = [
        *(p.read_bytes() for p in corpus_files()),
        invite()[0],
        outlook_invite(organizer=SAM, organizer_name="Sam", me=ME, uid="o", start=SOON)[0],
        robot_invite(recruiter=SAM, recruiter_name="Sam", me=ME, uid="r", start=SOON)[0],
    ]
    zone = cfg.AccountConfig(name="J", email=ME, timezone=BERLIN_ZONE).zone
    for raw in shapes:
        if parse_message(raw, me=[ME, "jdoe@example.org"], default_tz=zone) is not None:
            assert may_hold_calendar(raw), raw[:200]
    assert not may_hold_calendar(b"From: a@b.example\n\nSee you at the calendar meeting.\n")


def test_incremental_pass_parses_only_new_files(tree: Tree) -> None:
    """A second pass parses only the new file; plain mail, renames for flags (mutt marking
    an invite seen, mbsync moving new/ to cur/) and quiet passes parse nothing."""
    calls: list[str] = []
    config = tree.config()
    zone = config.account.zone

    def counting(raw: bytes) -> ParsedInvite | Rejected | None:
        result = parse_message(raw, me=config.account.addresses, default_tz=zone)
        calls.append(result.events[0].uid if isinstance(result, ParsedInvite) else "?")
        return result

    first = tree.add(invite("a@g")[0])
    tree.add(b"From: friend@example.net\nSubject: hi\nMessage-ID: <p1@example.net>\n\nhello\n")
    with wiring.open_store(config) as store:
        source = MaildirSource(config, store, now=wiring.utcnow, parse=counting)
        assert source.scan().new_messages == 2
        assert len(calls) == 1
        tree.add(invite("b@g")[0])
        report = source.scan()
        assert (report.new_messages, report.invites, len(calls)) == (1, 1, 2)
        assert calls == ["a@g", "b@g"]
        path = tree.file("INBOX", first)  # read by the user: new/ -> cur/, flag S
        path.rename(folder_path(tree.root, "INBOX") / "cur" / f"{first}:2,S")
        assert source.scan().new_messages == 0
        assert source.scan().new_messages == 0
        uids = {m.uid for m in mailbox_db.messages(store.connection, "INBOX")}
    assert len(calls) == 2
    assert uids == {1, 3}  # UIDs in delivery order; the plain mail got 2 and no row


def test_unchanged_folder_is_not_even_listed(tree: Tree) -> None:
    """Once a folder's new/ and cur/ mtimes are recorded, a pass that finds them unchanged
    does not list the folder: a file slipped in behind unchanged mtimes is not seen until
    the directory changes."""
    inbox = folder_path(tree.root, "INBOX")
    old = time.time() - 60

    def set_mtimes(when: float) -> None:
        for sub in ("new", "cur"):
            os.utime(inbox / sub, (when, when))

    tree.add(invite("a@g")[0])
    set_mtimes(old)
    config = tree.config()
    with wiring.open_store(config) as store:
        source = MaildirSource(config, store, now=wiring.utcnow)
        assert source.scan().new_messages == 1  # listed; the old mtimes are recorded
        tree.add(invite("b@g")[0])
        set_mtimes(old)
        assert source.scan().new_messages == 0  # not listed
        set_mtimes(old + 1)
        assert source.scan().invites == 1


def test_vanished_folder_and_missing_tree(tree: Tree, caplog: pytest.LogCaptureFixture) -> None:
    """A missing folder is skipped with a warning naming it; a missing tree is a one-line error, exit 1."""
    config = tree.config("\n[followup]\nenabled = false\n")
    shutil.rmtree(folder_path(tree.root, "Decline"))
    with wiring.open_store(config) as store, caplog.at_level(logging.WARNING):
        report = passes.scan(config, store)
    assert report.folders == ["INBOX"]
    assert "folder Decline: cannot read" in caplog.text
    shutil.rmtree(tree.root)
    result = tree.cli("run", "--once")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"decliner: Maildir {tree.root}: no such directory ([maildir].path in {config.source})"
    ]


def test_junk_files_never_stop_a_pass(tree: Tree) -> None:
    """Binary junk, an empty file and a broken calendar are skipped; the good invite is read."""
    tree.add(b"\x00\xff\xfe" * 1000)
    tree.add(b"")
    tree.add(b"Content-Type: text/calendar\n\nBEGIN:VCALENDAR\nMETHOD:REQUEST\nBEGIN:VEVENT\n")
    tree.add(invite()[0])
    config = tree.config()
    with wiring.open_store(config) as store:
        report = passes.scan(config, store)
    assert (report.new_messages, report.invites, len(report.skipped)) == (4, 1, 1)
    assert "key" in report.skipped[0]


# -- flagging and sending ------------------------------------------------------


def test_copy_into_flag_folder_sends_the_withdrawal(tree: Tree) -> None:
    """An invite copied into the flag folder: one threaded withdrawal to the organizer with a
    valid decline, written by the maildir transport; the sent copy is in Sent with S; the
    invite is marked answered (R); more passes send nothing."""
    raw, invite_id = invite()
    key = tree.add(raw, flags="S")
    tree.config()
    assert tree.cli("run", "--once").exit_code == 0
    assert invites_json(tree)["g1@google.com"]["status"] == "upcoming"
    tree.copy(key)
    assert invites_json(tree)["g1@google.com"]["flagged_by"] is None  # not scanned yet
    for _ in range(3):
        result = tree.cli("run", "--once")
        assert result.exit_code == 0, result.output
    [got] = tree.received()
    assert got["X-Envelope-To"] == SAM
    assert got["From"].addresses[0].addr_spec == ME
    assert [(a.display_name, a.addr_spec) for a in got["To"].addresses] == [("Sam Recruiter", SAM)]
    assert got["In-Reply-To"] == invite_id
    assert invite_id in got["References"]
    assert got["Subject"].startswith("Re: Invitation: Interview with Acme")
    body = got.get_body(("plain",))
    assert body is not None and "Hi Sam," in body.get_content()
    part = next(p for p in got.walk() if p.get_content_type() == "text/calendar")
    cal = icalendar.Calendar.from_ical(part.get_content())
    [event] = cal.walk("VEVENT")
    assert cal["METHOD"] == "REPLY"
    assert event["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert str(event["UID"]) == "g1@google.com"
    [(sent_key, sent)] = tree.box("Sent").items()
    assert sent.get_subdir() == "cur" and sent.get_flags() == "S"
    assert sent["Message-ID"] == got["Message-ID"]
    assert b"\r\n" not in tree.box("Sent").get_bytes(sent_key)  # Maildir keeps LF line ends
    assert tree.box("INBOX").get_message(key).get_flags() == "RS"
    rows = invites_json(tree)
    assert (rows["g1@google.com"]["status"], rows["g1@google.com"]["flagged_by"]) == (
        "withdrawn",
        "folder",
    )


def test_the_flagged_flag_never_withdraws(tree: Tree) -> None:
    """An invite with the Maildir F ("important") flag, in new/ or cur/, is never flagged."""
    tree.add(invite("f1@g")[0], flags="F")
    tree.add(invite("f2@g")[0], flags="FS")
    config = tree.config()
    for _ in range(3):
        run_pass(config)
    assert {uid: r["flagged_by"] for uid, r in invites_json(tree).items()} == {
        "f1@g": None,
        "f2@g": None,
    }
    assert outbox(config) == []
    assert tree.received() == []


def test_moving_out_of_the_flag_folder_within_grace_sends_nothing(tree: Tree) -> None:
    """Flag by copying, pass, move the copy back out within the grace period: nothing is
    sent, the row says why, and the flag folder keeps no stale row."""
    key = tree.add(invite()[0])
    copy = tree.copy(key)
    config = tree.config(grace="5m")
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    [row] = outbox(config)
    assert (row.state, row.due) == ("scheduled", row.created + timedelta(minutes=5))
    tree.move(copy, "Decline", "INBOX")
    clock.now += timedelta(minutes=2)
    run_pass(config, clock)
    clock.now += timedelta(minutes=10)
    run_pass(config, clock)
    [row] = outbox(config)
    assert (row.state, row.cancel_reason, row.attempts) == ("cancelled", "unflagged", 0)
    assert tree.received() == []
    with wiring.open_store(config) as store:
        assert mailbox_db.messages(store.connection, "Decline") == []
        assert len(mailbox_db.messages(store.connection, "INBOX")) == 2


def test_move_into_flag_folder_follows_the_invite(tree: Tree) -> None:
    """An invite moved (not copied) into the flag folder: no stale row for the old place,
    the event points at the moved file, which gets the answered flag."""
    key = tree.add(invite()[0])
    config = tree.config()
    run_pass(config)
    tree.move(key)
    run_pass(config)
    run_pass(config)
    assert len(tree.received()) == 1
    with wiring.open_store(config) as store:
        conn = store.connection
        assert mailbox_db.messages(conn, "INBOX") == []
        [moved] = mailbox_db.messages(conn, "Decline")
        [event] = event_db.all_events(conn)
    assert (event.invite.folder, event.invite.uid) == ("Decline", moved.uid)
    assert tree.box("Decline").get_message(key).get_flags() == "R"


def test_robot_and_outlook_invites_reach_people(tree: Tree) -> None:
    """A robot-organized invite flagged from the CLI goes to the human Reply-To; an Outlook
    invite in a Windows zone flagged by [[cancel]] goes to its organizer."""
    tree.add(robot_invite(recruiter=SAM, recruiter_name="Sam", me=ME, uid="r@gh", start=SOON)[0])
    pat = "pat.lee@initech.example"
    raw, _ = outlook_invite(organizer=pat, organizer_name="Lee, Pat", me=ME, uid="o@x", start=SOON)
    tree.add(raw)
    tree.config('\n[[cancel]]\nsummary = "interview"\n')
    assert tree.cli("invites", "--json").exit_code == 0
    rows = invites_json(tree)
    assert rows["o@x"]["flagged_by"] == "config"
    assert datetime.fromisoformat(rows["o@x"]["start"]) == SOON.replace(microsecond=0)
    assert tree.cli("flag", rows["r@gh"]["id"][:6]).exit_code == 0
    assert tree.cli("run", "--once").exit_code == 0
    got = {m["To"].addresses[0].addr_spec: m for m in tree.received()}
    assert set(got) == {SAM, pat}
    assert all("no-reply" not in m["X-Envelope-To"] for m in got.values())


# -- replies and the follow-up -------------------------------------------------


def reply_from_sam(to: EmailMessage) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Sam Recruiter <{SAM}>"
    msg["To"] = ME
    msg["Subject"] = f"Re: {to['Subject']}".replace("Re: Re: ", "Re: ")
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain="acme.example")
    msg["In-Reply-To"] = to["Message-ID"]
    msg["References"] = f"{to['References']} {to['Message-ID']}"
    msg.set_content("Thanks for letting us know, Jane. Best of luck!\n")
    return msg.as_bytes()


def test_reply_is_logged_and_the_followup_answers_it(tree: Tree) -> None:
    """A reply in the INBOX is logged as `in`; the follow-up, after its delay, answers it,
    thanks them, and lands in the same thread."""
    key = tree.add(invite()[0])
    tree.copy(key)
    config = tree.config(followup_at_any_time())
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    [withdrawal] = tree.received()
    reply = reply_from_sam(withdrawal)
    tree.add(reply)
    run_pass(config, clock)
    clock.now += timedelta(days=1, minutes=1)
    run_pass(config, clock)
    withdrawal, followup = tree.received()
    reply_id = email.message_from_bytes(reply)["Message-ID"]
    assert followup["In-Reply-To"] == reply_id
    assert withdrawal["Message-ID"] in followup["References"]
    assert followup["Subject"] == withdrawal["Subject"]
    body = followup.get_body(("plain",))
    assert body is not None and "Thank you for your reply" in body.get_content()
    rows = json.loads(tree.cli("log", "--json").stdout)
    assert [(r["direction"], r["kind"], r["state"]) for r in rows] == [
        ("out", "withdrawal", "sent"),
        ("in", "reply", "received"),
        ("out", "followup", "sent"),
    ]
    assert rows[1]["from"] == SAM
    assert len(tree.box("Sent")) == 2


# -- check and config ----------------------------------------------------------


def test_check_a_maildir_source(tree: Tree) -> None:
    """check: the tree and folders readable, the sent folder there; what is wrong is named."""
    tree.config()
    result = tree.cli("check")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if " maildir " in x)
    assert line.startswith("ok") and str(tree.root) in line
    shutil.rmtree(folder_path(tree.root, "Decline"))
    mailbox.Maildir(tree.root / "Sent", create=True)  # a verbatim-layout folder, not Maildir++
    shutil.rmtree(folder_path(tree.root, "Sent"))
    result = tree.cli("check")
    assert result.exit_code == 1
    assert "sent folder Sent" in result.output
    assert "SubFolders Maildir++" in result.output
    assert "flag folder 'Decline'" in result.output  # a warning: flagging by folder is off
    shutil.rmtree(tree.root)
    result = tree.cli("check")
    assert result.exit_code == 1
    assert f"{tree.root}: no such directory" in result.output


@pytest.mark.parametrize(
    ("table", "where", "says"),
    [
        ('path = "m"\nflag_keyword = "Decline"', "[maildir].flag_keyword", "F"),
        ('path = "m"\nflag_folder = "INBOX"', "[maildir].flag_folder", "every one"),
        (
            'path = "m"\nfolders = ["INBOX", "Jobs"]\nflag_folder = "Jobs"',
            "[maildir].flag_folder",
            "own",
        ),
        ('path = "m"\nsent_folder = ".Sent"', "[maildir].sent_folder", "not a folder name"),
        ('path = "m"\nfolders = ["../x"]', "[maildir].folders[0]", "not a folder name"),
    ],
)
def test_maildir_config_mistakes(tmp_path: Path, table: str, where: str, says: str) -> None:
    """Maildir mistakes are config errors naming the key, with a reason."""
    text = f"""
[account]
name = "Jane Doe"
email = "{ME}"
[maildir]
{table}
[smtp]
transport = "maildir"
maildir_path = "out"
"""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        cfg.load(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: {where}: ") and says in problem, problem
