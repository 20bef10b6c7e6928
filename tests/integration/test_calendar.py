"""The user's own calendar is updated once the withdrawal is sent (SPEC 13), on a real Radicale."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from decliner.calendar.client import CalDav, WriteOutcome
from decliner.service import wiring
from decliner.service.own_calendar import OwnCalendar
from decliner.service.runner import Runner
from tests.testbed.calendar_world import BERLIN, CalendarWorld, changed_lines
from tests.testbed.proxy import Proxy
from tests.testbed.radicale import Radicale
from tests.testbed.world import SOON, Clock, World, run_pass

pytestmark = pytest.mark.servers


@pytest.fixture
def cal(world: World, radicale: Radicale) -> CalendarWorld:
    """Jane's mailbox plus her calendar "Work" on the session's Radicale."""
    radicale.add_account(world.jane)
    return CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))


@pytest.fixture
def own_cal(world: World, own_radicale: Radicale) -> CalendarWorld:
    """The same on a Radicale of the test's own, which the test may stop and start."""
    own_radicale.add_account(world.jane)
    return CalendarWorld(world, own_radicale, own_radicale.make_calendar(world.jane, "Work"))


def test_withdrawal_declines_the_event_in_the_users_calendar(cal: CalendarWorld) -> None:
    """Jane's ATTENDEE becomes DECLINED without RSVP, the ORGANIZER gets SCHEDULE-AGENT=CLIENT,
    every other line (alarm, X- properties) stays; log and invites show it."""
    url = cal.invite_both("decline-1@example.com", SOON)
    before = cal.get(url)
    config = cal.config()
    run_pass(config, Clock(datetime.now(UTC)))

    assert len(cal.world.received(cal.world.sam)) == 1
    gone, added = changed_lines(before, cal.get(url))
    jane = cal.world.jane.address
    assert {line.split(":")[0].split(";")[0] for line in gone} == {"ATTENDEE", "ORGANIZER"}
    attendee = next(line for line in added if line.startswith("ATTENDEE"))
    assert "PARTSTAT=DECLINED" in attendee and "RSVP" not in attendee and jane in attendee
    organizer = next(line for line in added if line.startswith("ORGANIZER"))
    assert "SCHEDULE-AGENT=CLIENT" in organizer
    assert "X-MOZ-LASTACK:20261120T090000Z" in cal.get(url)

    [row] = cal.log()
    assert row["state"] == "sent" and row["to"] == [unquote(cal.calendar_url)]
    assert row["message_id"] is None and row["in_reply_to"] is None and row["subject"] is None
    assert row["attempts"] == 1 and row["error"] is None
    [invite] = cal.invites()
    assert invite["calendar"] == "declined"


def test_one_instance_of_a_weekly_series_gets_its_own_declined_override(
    cal: CalendarWorld,
) -> None:
    """An invitation for one instance (RECURRENCE-ID in UTC) declines only that instance in a
    series written in Europe/Berlin time; the master and the other instances stay."""
    url, second = cal.series_and_one_instance("loop-1@example.com", "loop.ics", week=1)
    before = cal.get(url)
    run_pass(cal.config(), Clock(datetime.now(UTC)))

    after = cal.get(url)
    assert after.count("BEGIN:VEVENT") == 2
    override = after[after.index("BEGIN:VEVENT", after.index("END:VEVENT")) :]
    local = second.astimezone(BERLIN)
    assert f"RECURRENCE-ID;TZID=Europe/Berlin:{local:%Y%m%dT%H%M%S}" in override
    assert "PARTSTAT=DECLINED" in override and "RRULE" not in override
    master = after[: after.index("END:VEVENT")]
    assert "PARTSTAT=NEEDS-ACTION" in master and "RRULE:FREQ=WEEKLY;COUNT=4" in master
    assert before[: before.index("END:VEVENT")] == master
    assert cal.log()[0]["state"] == "sent"


def test_delete_removes_the_event(cal: CalendarWorld) -> None:
    """on_withdraw = "delete" deletes the user's copy, conditionally and asking a scheduling
    server for no reply of its own (RFC 6638 Schedule-Reply: F); invites says "deleted"."""
    url = cal.invite_both("delete-1@example.com", SOON)
    with Proxy(cal.radicale.port) as proxy:
        config = cal.config('on_withdraw = "delete"', url=f"http://127.0.0.1:{proxy.port}/")
        run_pass(config, Clock(datetime.now(UTC)))
        [delete] = [h for h in proxy.heads if h.startswith(b"DELETE ")]
    assert b"\r\nSchedule-Reply: F" in delete and b"\r\nIf-Match: " in delete
    assert not cal.radicale.exists(cal.world.jane, url)
    [row] = cal.log()
    assert row["state"] == "sent"
    assert cal.invites()[0]["calendar"] == "deleted"


def test_on_withdraw_none_leaves_the_calendar_alone(cal: CalendarWorld) -> None:
    """on_withdraw = "none": no calendar row, the event unchanged, invites' calendar null."""
    url = cal.invite_both("none-1@example.com", SOON)
    before = cal.get(url)
    run_pass(cal.config('on_withdraw = "none"'), Clock(datetime.now(UTC)))
    assert cal.get(url) == before
    assert cal.log() == []
    assert cal.invites()[0]["calendar"] is None


def test_an_event_not_in_the_calendar_is_logged_as_such(
    cal: CalendarWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """No copy in the calendar: the row is cancelled (not failed), with no error, said at INFO."""
    cal.world.invite("absent-1@example.com", start=SOON)
    run_pass(cal.config(), Clock(datetime.now(UTC)))
    assert len(cal.world.received(cal.world.sam)) == 1
    [row] = cal.log()
    assert row["state"] == "cancelled" and row["error"] is None
    assert row["cancel_reason"] == "not_in_calendar"
    assert cal.invites()[0]["calendar"] is None
    found = [r for r in caplog.records if "not found in calendar" in r.getMessage()]
    assert found and all(r.levelno == logging.INFO for r in found)


class EditedMeanwhile(CalDav):
    """A real CalDAV client whose first write is preceded by another client's real edit of
    the same event on the server (a phone adding a note), so the server answers 412."""

    def __init__(self, base: CalDav, edit: Iterator[None]) -> None:
        super().__init__(base.config, base.credential, base.ca_file)
        self.edit = edit
        self.answers: list[WriteOutcome] = []

    def put(self, href: str, text: str, etag: str) -> WriteOutcome:
        next(self.edit, None)
        answer = super().put(href, text, etag)
        self.answers.append(answer)
        return answer


def test_a_concurrent_edit_is_reread_and_reapplied_never_overwritten(cal: CalendarWorld) -> None:
    """Between our read and our write another client changes the event: the 412 makes us read
    again; the other client's change survives and Jane's decline is applied on top of it."""
    url = cal.invite_both("race-1@example.com", SOON)
    config = cal.config()

    def phone_edit() -> Iterator[None]:
        text = cal.get(url).replace("SUMMARY:Interview", "SUMMARY:Interview (bring portfolio)")
        cal.put(url.rsplit("/", 1)[1], text)
        yield

    with wiring.open_store(config) as store:
        clock = Clock(datetime.now(UTC))
        calendar = OwnCalendar(config, store, now=clock)
        racing = EditedMeanwhile(calendar.caldav, phone_edit())
        calendar.caldav = racing
        with wiring.mail_source(config, store, now=clock) as source:
            Runner(config, store, now=clock).run_once(source, wiring.transport(config), calendar)

    assert racing.answers == ["changed", "done"]
    after = cal.get(url)
    assert "SUMMARY:Interview (bring portfolio)" in after
    assert "PARTSTAT=DECLINED" in after
    assert cal.log()[0]["state"] == "sent"


def test_server_down_at_send_time_is_retried_and_done_once(own_cal: CalendarWorld) -> None:
    """CalDAV down when the withdrawal goes: the mail still goes, the calendar row waits with
    the error and the backoff; back up, the next due pass declines it, once."""
    url = own_cal.invite_both("down-1@example.com", SOON)
    config = own_cal.config()
    clock = Clock(datetime.now(UTC))
    own_cal.radicale.stop_serving()
    run_pass(config, clock)
    assert len(own_cal.world.received(own_cal.world.sam)) == 1
    [row] = own_cal.log()
    assert row["state"] == "pending" and row["attempts"] == 1 and row["error"]
    assert own_cal.invites()[0]["calendar"] == "pending"

    own_cal.radicale.start_again()
    run_pass(config, clock)  # not due yet: the backoff holds it
    assert own_cal.log()[0]["attempts"] == 1
    clock.now += timedelta(minutes=1)
    run_pass(config, clock)
    clock.now += timedelta(hours=1)
    run_pass(config, clock)

    [row] = own_cal.log()
    assert row["state"] == "sent" and row["attempts"] == 2
    assert "PARTSTAT=DECLINED" in own_cal.get(url)
    assert len(own_cal.world.received(own_cal.world.sam)) == 1


def test_tls_with_the_test_ca(world: World, radicale_tls: Radicale, tmp_path: Path) -> None:
    """Over https the server is verified against the system store plus ca_file; without the
    CA the update fails with a TLS error and the mail is still sent."""
    radicale_tls.add_account(world.jane)
    cal = CalendarWorld(world, radicale_tls, radicale_tls.make_calendar(world.jane, "Work"))
    url = cal.invite_both("tls-1@example.com", SOON)
    ca = f'ca_file = "{radicale_tls.ca_file}"'
    run_pass(cal.config(ca), Clock(datetime.now(UTC)))
    assert "PARTSTAT=DECLINED" in cal.get(url)

    url2 = cal.invite_both("tls-2@example.com", SOON + timedelta(days=1))
    run_pass(cal.config(), Clock(datetime.now(UTC)))
    rows = {r["event_id"]: r for r in cal.log()}
    failing = [r for r in rows.values() if r["state"] == "pending"]
    assert len(failing) == 1 and "certificate" in failing[0]["error"].lower()
    assert "PARTSTAT=DECLINED" not in cal.get(url2)
    assert len(world.received(world.sam)) == 2


def test_a_refusal_fails_the_row_with_the_servers_reason(own_cal: CalendarWorld) -> None:
    """A 4xx other than 404/412 (here 403: the calendar is shared read-only) is final: the row
    is failed with the server's answer, the mail went out anyway, nothing is retried."""
    url = own_cal.invite_both("refused-1@example.com", SOON)
    own_cal.radicale.make_read_only(own_cal.calendar_url)
    clock = Clock(datetime.now(UTC))
    run_pass(own_cal.config(), clock)
    [row] = own_cal.log()
    assert row["state"] == "failed" and "403" in row["error"]
    assert own_cal.invites()[0]["calendar"] == "failed"
    clock.now += timedelta(hours=2)
    run_pass(own_cal.config(), clock)
    assert own_cal.log()[0]["attempts"] == 1
    assert "PARTSTAT=DECLINED" not in own_cal.get(url)
    assert len(own_cal.world.received(own_cal.world.sam)) == 1


def test_delete_one_instance_puts_an_exdate_on_the_series(cal: CalendarWorld) -> None:
    """Deleting one instance of a series keeps the series and excludes that day."""
    url, third = cal.series_and_one_instance("loop-2@example.com", "loop2.ics", week=2)
    run_pass(cal.config('on_withdraw = "delete"'), Clock(datetime.now(UTC)))
    after = cal.get(url)
    local = third.astimezone(BERLIN)
    assert f"EXDATE;TZID=Europe/Berlin:{local:%Y%m%dT%H%M%S}" in after.replace("\r\n ", "")
    assert after.count("BEGIN:VEVENT") == 1 and "RRULE:FREQ=WEEKLY;COUNT=4" in after


def test_a_5xx_is_retried_with_the_backoff(cal: CalendarWorld) -> None:
    """The server's front end answers 503 to the decline: the row waits with the error and is
    done by the first pass after its retry time, once."""
    url = cal.invite_both("busy-1@example.com", SOON)
    with Proxy(cal.radicale.port) as proxy:
        proxy.refuse["PUT"] = (
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        config = cal.config(url=f"http://127.0.0.1:{proxy.port}/")
        clock = Clock(datetime.now(UTC))
        run_pass(config, clock)
        [row] = cal.log()
        assert row["state"] == "pending" and "503" in row["error"]
        clock.now += timedelta(minutes=1)
        run_pass(config, clock)
    [row] = cal.log()
    assert row["state"] == "sent" and row["attempts"] == 2
    assert cal.get(url).count("PARTSTAT=DECLINED") == 1
