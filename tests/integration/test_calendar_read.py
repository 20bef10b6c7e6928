"""Invitations read from the user's own calendar, incrementally (SPEC 13), on a real Radicale."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from decliner.config import Config
from decliner.service import wiring
from decliner.service.runner import Runner
from tests.testbed.calendar_world import BERLIN, CalendarWorld, stored_copy, weekly_series
from tests.testbed.daemon_harness import running
from tests.testbed.helpers import config_text
from tests.testbed.proxy import Proxy
from tests.testbed.radicale import Radicale
from tests.testbed.world import SOON, Clock, World, run_pass

pytestmark = pytest.mark.servers


@pytest.fixture
def cal(world: World, radicale: Radicale) -> CalendarWorld:
    """Jane's mailbox plus her calendar "Work" on the session's Radicale."""
    radicale.add_account(world.jane)
    return CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))


def only_in_calendar(cal: CalendarWorld, uid: str, summary: str = "Interview with Acme") -> str:
    """An invitation from Sam that reached Jane's calendar but not her mailbox; its URL."""
    return cal.put(f"{uid}.ics", stored_copy(cal.invite_ics(uid, SOON, summary)))


def test_an_invitation_only_in_the_calendar_is_listed_flagged_and_withdrawn_in_a_new_thread(
    cal: CalendarWorld,
) -> None:
    """Folder "calendar" in `invites`; `flag` from the CLI; the withdrawal goes to the
    organizer with Subject: <summary> and no In-Reply-To; then the event is declined there."""
    url = only_in_calendar(cal, "cal-only-1@example.com")
    config = cal.config()
    run_pass(config, Clock(datetime.now(UTC)))
    [invite] = cal.invites()
    assert invite["folder"] == "calendar" and invite["uid"] == "cal-only-1@example.com"
    assert invite["organizer"] == cal.world.sam.address and invite["status"] == "upcoming"

    assert cal.world.cli("flag", invite["id"]).exit_code == 0
    run_pass(config, Clock(datetime.now(UTC)))

    [letter] = cal.world.received(cal.world.sam)
    assert letter["Subject"] == "Interview with Acme"
    assert letter["In-Reply-To"] is None and letter["References"] is None
    assert "PARTSTAT=DECLINED" in cal.get(url)
    [row] = cal.log("withdrawal")
    assert row["state"] == "sent" and row["in_reply_to"] is None
    assert cal.invites()[0]["calendar"] == "declined"


def test_invites_reads_the_calendar_first_and_says_when_it_cannot(
    world: World, own_radicale: Radicale
) -> None:
    """`invites` lists an invitation that is only in the calendar without a pass first; with
    the server down it says so in one line on stderr and lists what it knew (exit 0)."""
    own_radicale.add_account(world.jane)
    cal = CalendarWorld(world, own_radicale, own_radicale.make_calendar(world.jane, "Work"))
    only_in_calendar(cal, "listed-1@example.com")
    cal.config()
    listed = world.cli("invites", "--json")
    assert [i["folder"] for i in json.loads(listed.stdout)] == ["calendar"]
    own_radicale.stop_serving()
    offline = world.cli("invites", "--json")
    assert offline.exit_code == 0
    assert "showing what was known of your calendar" in offline.stderr
    assert [i["uid"] for i in json.loads(offline.stdout)] == ["listed-1@example.com"]


def test_a_series_with_an_override_in_the_calendar_is_read_as_for_mail(
    cal: CalendarWorld,
) -> None:
    """A weekly series in Europe/Berlin time with one moved instance: the series and the
    override are two invitations, the override at its own time."""
    uid = "series-read-1@example.com"
    first = (SOON + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    series = weekly_series(
        uid=uid, first=first, organizer=cal.world.sam.address, me=cal.world.jane.address
    )
    second = first + timedelta(weeks=1)
    moved = second.astimezone(BERLIN) + timedelta(hours=2)
    override = "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"RECURRENCE-ID;TZID=Europe/Berlin:{second.astimezone(BERLIN):%Y%m%dT%H%M%S}",
            f"DTSTART;TZID=Europe/Berlin:{moved:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Berlin:{moved + timedelta(hours=1):%Y%m%dT%H%M%S}",
            "DTSTAMP:20261120T000000Z",
            f"ORGANIZER;CN=Sam:mailto:{cal.world.sam.address}",
            f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{cal.world.jane.address}",
            "SUMMARY:Interview loop (moved)",
            "SEQUENCE:1",
            "END:VEVENT",
            "",
        ]
    )
    cal.put("series.ics", series.replace("END:VCALENDAR", override + "END:VCALENDAR"))
    run_pass(cal.config(), Clock(datetime.now(UTC)))
    found = {i["summary"]: i for i in cal.invites()}
    assert set(found) == {"Interview loop", "Interview loop (moved)"}
    instance = found["Interview loop (moved)"]
    assert instance["recurrence_id"] is not None
    assert datetime.fromisoformat(instance["start"]) == moved


def test_a_config_entry_flags_an_invitation_known_only_from_the_calendar(
    cal: CalendarWorld,
) -> None:
    """A [[cancel]] uid matches an event read from the calendar like one read from mail."""
    only_in_calendar(cal, "cal-only-2@example.com")
    config = cal.config('\n[[cancel]]\nuid = "cal-only-2@example.com"\n')
    run_pass(config, Clock(datetime.now(UTC)))
    assert [m["Subject"] for m in cal.world.received(cal.world.sam)] == ["Interview with Acme"]
    assert cal.invites()[0]["flagged_by"] == "config"


def test_mail_and_calendar_merge_by_uid_and_mail_gives_the_thread(cal: CalendarWorld) -> None:
    """The same invitation in both: one event, the mail's folder, and the withdrawal replies
    to the invite message."""
    cal.invite_both("both-1@example.com", SOON)
    run_pass(cal.config(), Clock(datetime.now(UTC)))
    [invite] = cal.invites()
    assert invite["folder"] == "INBOX"
    [letter] = cal.world.received(cal.world.sam)
    assert letter["Subject"].startswith("Re: ") and letter["In-Reply-To"]


def test_events_that_do_not_invite_the_user_are_not_invitations(cal: CalendarWorld) -> None:
    """Jane's own events (she organizes) and events without her are not listed."""
    own = cal.invite_ics("own-1@example.com", SOON).replace(
        f'ORGANIZER;CN="Sam":mailto:{cal.world.sam.address}',
        f"ORGANIZER:mailto:{cal.world.jane.address}",
    )
    cal.put("own.ics", stored_copy(own))
    cal.put(
        "dentist.ics",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:dentist-1\r\n"
        f"DTSTART:{SOON:%Y%m%dT%H%M%SZ}\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    run_pass(cal.config(), Clock(datetime.now(UTC)))
    assert cal.invites() == []


def test_a_quiet_pass_is_one_request_per_calendar(world: World, radicale: Radicale) -> None:
    """As the daemon keeps its calendar account between passes: after the first pass, a pass
    with nothing new is one sync-collection REPORT per calendar and nothing else, and a
    changed event is the only one fetched."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    radicale.make_calendar(world.jane, "Private")
    for n in range(20):
        only_in_calendar(cal, f"quiet-{n}@example.com")
    with Proxy(radicale.port) as proxy:
        config = cal.config(url=f"http://127.0.0.1:{proxy.port}/")
        with kept_calendar(config) as one_pass:
            one_pass()
            assert len(cal.invites()) == 20
            proxy.reset()
            one_pass()
            assert [r.split()[0] for r in proxy.requests] == ["REPORT", "REPORT"]
            calendars = {r.split()[1].rstrip("/").rsplit("/", 1)[1] for r in proxy.requests}
            assert calendars == {"work", "private"}

            moved = cal.invite_ics("quiet-3@example.com", SOON, "Moved")
            cal.put("quiet-3@example.com.ics", stored_copy(moved))
            proxy.reset()
            one_pass()
            assert [r.split()[0] for r in proxy.requests] == ["REPORT"] * 3  # + one multiget
    assert [i["summary"] for i in cal.invites() if i["uid"] == "quiet-3@example.com"] == ["Moved"]


def test_our_own_decline_is_not_read_back_as_news(world: World, radicale: Radicale) -> None:
    """The ETag our PUT got is remembered: the pass after the decline asks the calendar one
    question and fetches nothing."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    only_in_calendar(cal, "own-write-1@example.com")
    with Proxy(radicale.port) as proxy:
        config = cal.config(
            '\n[[cancel]]\nuid = "own-write-1@example.com"\n',
            url=f"http://127.0.0.1:{proxy.port}/",
        )
        with kept_calendar(config) as one_pass:
            one_pass()
            assert cal.log()[0]["state"] == "sent"
            proxy.reset()
            one_pass()
            assert [r.split()[0] for r in proxy.requests] == ["REPORT"]


@contextmanager
def kept_calendar(config: Config) -> Iterator[Callable[[], None]]:
    """Passes over one mail connection and one calendar account, as the daemon runs them."""
    with wiring.open_store(config) as store:
        calendar = wiring.open_calendar(config, store)
        assert calendar is not None
        try:
            with wiring.mail_source(config, store) as source:
                runner = Runner(config, store, now=wiring.utcnow)

                def one_pass() -> None:
                    runner.run_once(source, wiring.transport(config), calendar)

                yield one_pass
        finally:
            calendar.close()


def test_an_expired_sync_token_means_one_full_listing_and_nothing_sent_twice(
    cal: CalendarWorld,
) -> None:
    """The server forgets our token: the next pass lists everything again, finds the one new
    event, and nothing already sent goes out again."""
    only_in_calendar(cal, "expire-1@example.com")
    config = cal.config('\n[[cancel]]\nsummary = "*Acme*"\n')
    run_pass(config, Clock(datetime.now(UTC)))
    assert len(cal.world.received(cal.world.sam)) == 1

    for tokens in cal.radicale.root.glob("collections/**/.Radicale.cache/sync-token"):
        shutil.rmtree(tokens)
    only_in_calendar(cal, "expire-2@example.com", "Second interview with Acme")
    run_pass(config, Clock(datetime.now(UTC)))

    subjects = sorted(m["Subject"] for m in cal.world.received(cal.world.sam))
    assert subjects == ["Interview with Acme", "Second interview with Acme"]
    assert "invalid sync token" in cal.radicale.log_text()
    assert len(cal.invites()) == 2


def daemon_config(world: World, tmp_path: Path, extra: str, imap_extra: str = "") -> Path:
    """Jane's config file for the real daemon: no grace, then `extra` (its [calendar])."""
    path = tmp_path / "config.toml"
    path.write_text(
        config_text(
            world.dovecot,
            world.jane,
            tmp_path,
            smtp_port=world.smtp.plain.port,
            imap_extra=imap_extra,
            extra=f'\n[withdrawal]\ngrace = "0"\n{extra}',
        )
    )
    return path


def test_wrong_calendar_password(world: World, radicale: Radicale, tmp_path: Path) -> None:
    """`check` exits 1 naming the calendar; the daemon keeps sending mail and says what is
    wrong with the calendar in its STATUS and its log, without the password."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    path = daemon_config(
        world, tmp_path, f'[calendar]\nurl = "{radicale.url}"\npassword = "wrong-CANARY-password"\n'
    )
    checked = world.cli("check")
    assert checked.exit_code == 1
    assert "calendar" in checked.stdout and "login refused" in checked.stdout
    assert "CANARY" not in checked.stdout + checked.stderr

    cal.invite_both("pw-1@example.com", SOON)
    with running(path, tmp_path) as (decliner, listener):
        decliner.wait(lambda: len(world.received(world.sam)) == 1, "the withdrawal by mail")
        decliner.wait(lambda: listener.status_with("calendar trouble"), "calendar trouble")
        assert listener.status_with("login refused")
        assert decliner.logged("login refused")
    assert "CANARY" not in decliner.output


def test_the_daemon_reads_the_calendar_at_its_poll_interval(
    world: World, radicale: Radicale, tmp_path: Path
) -> None:
    """No mail arrives: an invitation that appears only in the calendar while the daemon runs
    is found by a timer pass, withdrawn once in a new thread and declined there."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    path = daemon_config(
        world,
        tmp_path,
        f'[[cancel]]\nuid = "polled-1@example.com"\n[calendar]\nurl = "{radicale.url}"\n',
        imap_extra='poll_interval = "1s"\n',
    )
    with running(path, tmp_path) as (decliner, listener):
        passes = listener.passes()
        url = only_in_calendar(cal, "polled-1@example.com")
        decliner.wait(lambda: len(world.received(world.sam)) == 1, "the withdrawal")
        decliner.wait(lambda: "PARTSTAT=DECLINED" in cal.get(url), "the decline in the calendar")
        decliner.wait(lambda: listener.passes() > passes + 1, "one more pass")
    [letter] = world.received(world.sam)
    assert letter["Subject"] == "Interview with Acme" and letter["In-Reply-To"] is None
