"""Calendars as other producers write them, through a real Maildir scan, pass and letter
(issue 24): a CANCEL that names only its UID still cancels, a repeated SUMMARY never puts a
library repr in a letter, and every repair is logged with the folder and the key."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.testbed.maildir_tree import ME, SAM, SOON, Tree, invite, invites_json, outbox, run_pass
from tests.testbed.mailfactory import calendar, google_invite
from tests.testbed.world import Clock


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def cancel_ics(uid: str, sequence: int = 1) -> str:
    """An organizer's CANCEL as RFC 5546 3.2.5 allows it: no DTSTART, no SUMMARY."""
    return (
        "BEGIN:VCALENDAR\r\nPRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r\n"
        "VERSION:2.0\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20261121T100000Z\r\n"
        f"ORGANIZER;CN=Sam Recruiter:mailto:{SAM}\r\nATTENDEE:mailto:{ME}\r\n"
        "STATUS:CANCELLED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def cancellation(uid: str) -> bytes:
    raw, _ = google_invite(
        organizer=SAM,
        organizer_name="Sam Recruiter",
        me=ME,
        uid=uid,
        start=SOON,
        ics=cancel_ics(uid),
    )
    return raw


def flag(tree: Tree, uid: str) -> None:
    result = tree.cli("flag", invites_json(tree)[uid]["id"])
    assert result.exit_code == 0, result.output


def test_a_bare_cancel_before_the_flag_means_nothing_is_sent(tree: Tree) -> None:
    """The organizer cancelled (without DTSTART) before the user flagged: the flag sends
    nothing, no follow-up, and `invites` shows the event cancelled with its own times."""
    config = tree.config()
    tree.add(invite("c1@google.com")[0])
    run_pass(config)
    tree.add(cancellation("c1@google.com"))
    run_pass(config)
    flag(tree, "c1@google.com")
    run_pass(config)
    assert tree.received() == []
    assert outbox(config) == []
    row = invites_json(tree)["c1@google.com"]
    assert row["status"] == "cancelled_by_organizer"
    assert datetime.fromisoformat(row["start"]) == SOON.replace(microsecond=0)


def test_a_bare_cancel_within_the_grace_period_cancels_the_withdrawal(tree: Tree) -> None:
    """Flagged, then cancelled by the organizer before the grace ended: the scheduled
    withdrawal is cancelled as `cancelled_by_organizer`, and nothing is ever sent."""
    config = tree.config(grace="1h")
    clock = Clock(datetime.now(UTC))
    tree.add(invite("c2@google.com")[0])
    run_pass(config, clock)
    flag(tree, "c2@google.com")
    run_pass(config, clock)
    assert [(r.kind, r.state) for r in outbox(config)] == [("withdrawal", "scheduled")]
    tree.add(cancellation("c2@google.com"))
    clock.now += timedelta(hours=2)
    run_pass(config, clock)
    run_pass(config, clock)
    assert tree.received() == []
    [row] = outbox(config)
    assert (row.state, row.cancel_reason) == ("cancelled", "cancelled_by_organizer")


def test_a_repeated_summary_reaches_no_letter_log_or_json_as_a_repr(
    tree: Tree, caplog: pytest.LogCaptureFixture
) -> None:
    """Two SUMMARY lines (a Google invitation): the first is the title everywhere, the
    repeat is warned once with folder and key, and the letter, the log, `invites --json`
    and `log --json` hold no repr of an icalendar object."""
    ics = calendar(
        uid="s1@google.com",
        start=SOON,
        summary="The Strokes",
        organizer=SAM,
        organizer_name="Sam Recruiter",
        me=ME,
    ).replace("SUMMARY:The Strokes\r\n", "SUMMARY:The Strokes\r\nSUMMARY:Is this it?\r\n")
    raw, _ = google_invite(
        organizer=SAM, organizer_name="Sam", me=ME, uid="s1@google.com", start=SOON, ics=ics
    )
    key = tree.add(raw)
    config = tree.config()
    with caplog.at_level(logging.WARNING):
        run_pass(config)
    warned = [r.getMessage() for r in caplog.records if "SUMMARY appears" in r.getMessage()]
    assert warned == [
        f"folder INBOX key {key}: event s1@google.com: SUMMARY appears 2 times; the first is used"
    ]
    flag(tree, "s1@google.com")
    run_pass(config)
    [letter] = tree.received()
    outputs = [
        letter.as_string(),
        tree.cli("invites", "--all", "--json", "--cached").stdout,
        tree.cli("log", "--json").stdout,
        tree.cli("log").stdout,
        *(r.getMessage() for r in caplog.records),
    ]
    for text in outputs:
        assert "vText" not in text
        assert "[v" not in text
    assert json.loads(outputs[1])[0]["summary"] == "The Strokes"


def test_output_that_is_no_terminal_never_breaks_an_address(tree: Tree) -> None:
    """`run --once` and `log`, piped: a long recipient stays on one line, whole."""
    long = "talent.acquisition.team.for.senior.engineering.roles.emea@recruiting.acme.example"
    raw, _ = google_invite(
        organizer=long, organizer_name="Talent", me=ME, uid="w1@google.com", start=SOON
    )
    tree.add(raw)
    tree.config()
    assert tree.cli("run", "--once").exit_code == 0
    flag(tree, "w1@google.com")
    ran = tree.cli("run", "--once")
    logged = tree.cli("log")
    for output in (ran.stdout, logged.stdout):
        assert any(long in line for line in output.splitlines()), output


def test_a_withdrawal_for_this_interview_only_says_the_user_remains_interested(
    tree: Tree,
) -> None:
    """`flag --scope interview`: the letter cancels the interview, says the user remains
    interested in the role, and never quotes the calendar title (SPEC 18, 19)."""
    tree.add(invite("i1@google.com")[0])
    config = tree.config()
    run_pass(config)
    event = invites_json(tree)["i1@google.com"]["id"]
    assert tree.cli("flag", event, "--scope", "interview").exit_code == 0
    run_pass(config)
    [letter] = tree.received()
    body = letter.get_body(("plain",))
    assert body is not None
    text = " ".join(body.get_content().split())
    assert "I remain interested in the role." in text
    assert "from the hiring process" not in text
    assert "Interview with Acme" not in text
