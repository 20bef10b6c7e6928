"""The CalDAV account: discovery, `check`, logins, servers without sync-collection (SPEC 13)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from decliner.calendar.client import CalDav, Collection, Listing, SyncUnsupported
from decliner.config import Config
from decliner.config.credentials import calendar_credential
from decliner.errors import AuthFailure, DeclinerError
from decliner.service import wiring
from decliner.service.runner import Runner
from tests.testbed.calendar_world import CalendarWorld, stored_copy
from tests.testbed.helpers import load_config
from tests.testbed.proxy import Proxy
from tests.testbed.radicale import Radicale
from tests.testbed.world import SOON, Clock, World, run_pass

pytestmark = pytest.mark.servers


@pytest.fixture
def cal(world: World, radicale: Radicale) -> CalendarWorld:
    """Jane's mailbox plus her calendars "Work" and "Private" on the session's Radicale."""
    radicale.add_account(world.jane)
    radicale.make_calendar(world.jane, "Private")
    return CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))


def names(config: Config) -> list[str]:
    caldav = wiring.calendar_account(config)
    try:
        return sorted(c.name for c in caldav.collections())
    finally:
        caldav.close()


def test_discovery_from_the_root_a_principal_a_calendar_or_the_well_known_url(
    cal: CalendarWorld,
) -> None:
    """The server root, /.well-known/caldav (RFC 6764) and the principal (its home set on
    Radicale) find every calendar; a calendar's own URL is that calendar alone."""
    root = cal.radicale.url
    principal = f"{root}{quote(cal.world.jane.address)}/"
    assert names(cal.config(url=root)) == ["Private", "Work"]
    assert names(cal.config(url=f"{root}.well-known/caldav")) == ["Private", "Work"]
    assert names(cal.config(url=principal)) == ["Private", "Work"]
    assert names(cal.config(url=cal.calendar_url)) == ["Work"]


def test_calendars_chooses_by_display_name_or_url_and_names_what_is_missing(
    cal: CalendarWorld,
) -> None:
    """`calendars` keeps the named ones; a name the server lacks is an error that lists the
    calendars there."""
    assert names(cal.config('calendars = ["Work"]')) == ["Work"]
    assert names(cal.config(f'calendars = ["{cal.calendar_url}"]')) == ["Work"]
    with pytest.raises(DeclinerError, match=r'Holidays not found.*"Private"'):
        names(cal.config('calendars = ["Holidays"]'))


def test_check_names_each_calendar_with_its_events_and_sync(cal: CalendarWorld) -> None:
    """`check` logs in and lists the calendars, their event counts and sync-collection."""
    cal.put("a.ics", stored_copy(cal.invite_ics("check-1@example.com", SOON)))
    cal.config()
    result = cal.world.cli("check")
    assert result.exit_code == 0, result.stdout
    line = next(line for line in result.stdout.splitlines() if line.split()[1:2] == ["calendar"])
    assert '"Work" (1 events, sync-collection)' in line
    assert '"Private" (0 events, sync-collection)' in line


def test_check_offline_validates_the_section_without_a_server(world: World, tmp_path: Path) -> None:
    """`check --offline` reads [calendar] but contacts nothing (the URL is unreachable)."""
    world.config('[calendar]\nurl = "http://127.0.0.1:9/"\non_withdraw = "delete"\n')
    result = world.cli("check", "--offline")
    assert result.exit_code == 0, result.stdout


def test_the_imap_secret_is_the_default_and_a_token_command_is_a_bearer_token(
    world: World,
) -> None:
    """No secret in [calendar]: the IMAP login is used; oauth2_token_command's output goes
    out as `Authorization: Bearer` (Radicale refuses it: a login failure, no secret shown)."""
    config = world.config('[calendar]\nurl = "http://127.0.0.1:9/"\n')
    login = calendar_credential(config)
    assert (login.username, login.secret) == (world.jane.address, world.jane.password)
    token = world.config(
        '[calendar]\nurl = "http://127.0.0.1:9/"\noauth2_token_command = "echo tok-CANARY"\n'
    )
    assert calendar_credential(token).mechanism == "xoauth2"


def test_a_bearer_token_is_sent_and_refused_cleanly(world: World, radicale: Radicale) -> None:
    """A bearer token reaches the server; Radicale only knows Basic, so it is a login error
    naming the server, never the token."""
    with Proxy(radicale.port) as proxy:
        config = world.config(
            f'[calendar]\nurl = "http://127.0.0.1:{proxy.port}/"\n'
            'oauth2_token_command = "echo tok-CANARY"\n'
        )
        caldav = wiring.calendar_account(config)
        with pytest.raises(AuthFailure, match="login refused") as failed:
            caldav.collections()
    assert "CANARY" not in str(failed.value)
    sent = [h for head in proxy.heads for h in head.split(b"\r\n")]
    assert b"Authorization: Bearer tok-CANARY" in sent
    assert not any(h.lower().startswith(b"authorization: basic") for h in sent)


class WithoutSyncCollection(CalDav):
    """Radicale as a server that lacks the sync-collection REPORT (RFC 6578) would answer:
    every other request (PROPFIND getctag, getetag, calendar-multiget) goes to it for real."""

    def __init__(self, base: CalDav) -> None:
        super().__init__(base.config, base.credential, base.ca_file)
        self.ctags = 0
        self.listings = 0

    def sync(self, collection: Collection, token: str | None) -> Listing:
        raise SyncUnsupported("DAV:supported-report")

    def ctag(self, collection: Collection) -> str | None:
        self.ctags += 1
        return super().ctag(collection)

    def etags(self, collection: Collection) -> Listing:
        self.listings += 1
        return super().etags(collection)


def test_without_sync_collection_the_ctag_and_etags_are_used(cal: CalendarWorld) -> None:
    """A quiet pass asks each calendar's CTag only; a change lists ETags and fetches just
    the changed event; an event deleted there is forgotten."""
    cal.put("a.ics", stored_copy(cal.invite_ics("ctag-1@example.com", SOON)))
    b = cal.put("b.ics", stored_copy(cal.invite_ics("ctag-2@example.com", SOON)))
    config = cal.config()
    with wiring.open_store(config) as store:
        calendar = wiring.open_calendar(config, store)
        assert calendar is not None
        plain = WithoutSyncCollection(calendar.caldav)
        calendar.caldav = plain
        runner = Runner(config, store, now=Clock(datetime.now(UTC)))
        with wiring.mail_source(config, store) as source:
            first = runner.run_once(source, wiring.transport(config), calendar).calendar
            assert first is not None and first.fetched == 2
            assert (plain.ctags, plain.listings) == (2, 2)
            quiet = runner.run_once(source, wiring.transport(config), calendar).calendar
            assert quiet is not None and quiet.fetched == 0
            assert (plain.ctags, plain.listings) == (4, 2)
            moved = stored_copy(cal.invite_ics("ctag-1@example.com", SOON, "Moved"))
            cal.put("a.ics", moved)
            cal.radicale.delete(cal.world.jane, b)
            changed = runner.run_once(source, wiring.transport(config), calendar).calendar
            assert changed is not None and changed.fetched == 1 and changed.removed == 1
        calendar.close()
    summaries = {i["uid"]: i["summary"] for i in cal.invites()}
    assert summaries["ctag-1@example.com"] == "Moved"


def test_a_broken_event_in_the_calendar_is_skipped_with_a_warning(cal: CalendarWorld) -> None:
    """An event the parser refuses is named in a warning and by `check`; the others are read."""
    cal.put("good.ics", stored_copy(cal.invite_ics("fine-1@example.com", SOON)))
    broken = stored_copy(cal.invite_ics("broken-1@example.com", SOON)).replace(
        "DTSTART:", "DTSTART;TZID=Nowhere/Atlantis:"
    )
    cal.put("broken.ics", broken)
    config = cal.config()
    run_pass(config, Clock(datetime.now(UTC)))
    assert [i["uid"] for i in cal.invites()] == ["fine-1@example.com"]
    checked = cal.world.cli("check", "--offline")
    assert "broken.ics" in checked.stdout


def test_plain_http_is_refused_for_a_remote_host(tmp_path: Path) -> None:
    """http:// sends the password in the clear: a config error unless the host is loopback."""
    base = '[account]\nname = "J"\nemail = "j@example.com"\n[imap]\nhost = "h"\npassword = "x"\n'
    base += '[smtp]\nhost = "h"\n'
    with pytest.raises(DeclinerError, match=r"\[calendar\]\.url: .*loopback"):
        load_config(base + '[calendar]\nurl = "http://dav.example.com/"\n', tmp_path)
    assert load_config(base + '[calendar]\nurl = "http://[::1]:5232/"\n', tmp_path).calendar


def test_a_silent_calendar_server_is_given_up_after_its_timeout(cal: CalendarWorld) -> None:
    """[calendar].timeout bounds a server that takes the connection and then says nothing:
    `invites` gives up on the calendar, says so in one line and lists what it knew."""
    with Proxy(cal.radicale.port) as proxy:
        proxy.stall()
        cal.config('timeout = "1s"', url=f"http://127.0.0.1:{proxy.port}/")
        listed = cal.world.cli("invites", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert "showing what was known of your calendar" in listed.stderr
    assert "CalDAV 127.0.0.1: no answer" in listed.stderr
    assert listed.stdout.strip() == "[]"
