"""One hiring process, one letter (SPEC 18) end to end: Dovecot, aiosmtpd and Radicale,
through the CLI as a user runs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from tests.testbed.calendar_world import CalendarWorld, stored_copy
from tests.testbed.radicale import Radicale
from tests.testbed.world import Clock, World, run_pass

pytestmark = pytest.mark.servers

UIDS = ("screen@acme.example", "tech@acme.example", "onsite@acme.example")


@pytest.fixture
def cal(world: World, radicale: Radicale) -> CalendarWorld:
    radicale.add_account(world.jane)
    return CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))


def three(cal: CalendarWorld, flagged: str = "tech@acme.example") -> dict[str, str]:
    """Sam's three invitations by mail, a day apart, one flagged; each also in Jane's
    calendar. The calendar copies' URLs by UID."""
    soon = datetime.now(UTC) + timedelta(days=6)
    urls = {}
    for day, uid in enumerate(UIDS):
        start = soon + timedelta(days=day)
        cal.world.invite(uid, start=start, flagged=uid == flagged)
        urls[uid] = cal.put(f"{uid}.ics", stored_copy(cal.invite_ics(uid, start)))
    return urls


def test_one_flag_one_letter_three_declines_in_both_calendars(cal: CalendarWorld) -> None:
    """One letter names the three dates; two REPLY messages decline the others; all three
    are declined in Jane's calendar; `invites` shows all withdrawn; `log` shows the letter
    and the two replies out; a second pass sends nothing."""
    urls = three(cal)
    config = cal.config()
    run_pass(config, Clock(datetime.now(UTC)))
    run_pass(config, Clock(datetime.now(UTC)))

    received = cal.world.received(cal.world.sam)
    subjects = sorted(str(m["Subject"]) for m in received)
    assert len(received) == 3
    assert sum(s.startswith("Declined: ") for s in subjects) == 2
    [letter] = [m for m in received if not str(m["Subject"]).startswith("Declined: ")]
    assert isinstance(letter, EmailMessage)
    body = letter.get_body(("plain",))
    assert body is not None
    assert "my interviews" in " ".join(str(body.get_content()).split())
    for url in urls.values():
        assert cal.get(url).count("PARTSTAT=DECLINED") == 1, url
    statuses = {row["uid"]: (row["status"], row["calendar"]) for row in cal.invites()}
    assert statuses == dict.fromkeys(UIDS, ("withdrawn", "declined"))
    log = json.loads(cal.world.cli("log", "--json").stdout)
    out = sorted(row["kind"] for row in log if row["direction"] == "out")
    assert out == ["calendar", "calendar", "calendar", "followup", "reply", "reply", "withdrawal"]


def test_preview_of_a_covered_interview_shows_the_process_letter(cal: CalendarWorld) -> None:
    """`preview` of an interview another flag's letter covers shows that letter, and says so."""
    three(cal)
    cal.config(grace="1h")
    cal.world.cli("invites")
    listed = {row["uid"]: row for row in cal.invites()}
    result = cal.world.cli("preview", listed["screen@acme.example"]["id"])
    assert result.exit_code == 0, result.output
    assert "is withdrawn from in the letter about" in result.stderr
    assert "my interviews" in " ".join(result.stdout.split())
    assert listed["screen@acme.example"]["status"] == "flagged"
    assert len({row["process"] for row in listed.values()}) == 1


def test_a_later_invitation_is_pointed_out_by_check_not_answered(cal: CalendarWorld) -> None:
    """After the letter went, a fourth invitation of the process is listed by `check` and
    not answered by the next pass."""
    three(cal)
    config = cal.config()
    run_pass(config, Clock(datetime.now(UTC)))
    cal.world.invite(
        "final@acme.example", start=datetime.now(UTC) + timedelta(days=12), flagged=False
    )
    run_pass(config, Clock(datetime.now(UTC)))
    assert len(cal.world.received(cal.world.sam)) == 3
    result = cal.world.cli("check", "--offline")
    assert "arrived for a hiring process you withdrew from" in result.output
