"""The same calendar scenarios against Xandikos, a second CalDAV server (SPEC 13)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.testbed.calendar_world import changed_lines, stored_copy
from tests.testbed.world import SOON, Clock, World, run_pass
from tests.testbed.xandikos import Xandikos

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def xandikos() -> Iterator[Xandikos]:
    """A private Xandikos for this module."""
    with tempfile.TemporaryDirectory(prefix="decliner-xandikos-") as root:
        server = Xandikos(Path(root))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def invite_ics(world: World, uid: str, summary: str = "Interview") -> str:
    from tests.testbed.mailfactory import calendar

    return calendar(
        uid=uid,
        start=SOON,
        summary=summary,
        organizer=world.sam.address,
        organizer_name="Sam",
        me=world.jane.address,
    )


def test_decline_on_xandikos(world: World, xandikos: Xandikos) -> None:
    """An invitation by mail is declined in the Xandikos calendar: only the user's ATTENDEE
    and the ORGANIZER lines change."""
    uid = "x-decline-1@example.com"
    url = xandikos.put("x-decline-1.ics", stored_copy(invite_ics(world, uid)))
    world.invite(uid, start=SOON)
    before = xandikos.get(url)
    config = world.config(f'[calendar]\nurl = "{xandikos.url}"\n')
    run_pass(config, Clock(datetime.now(UTC)))
    gone, added = changed_lines(before, xandikos.get(url))
    assert {line.split(":")[0].split(";")[0] for line in gone} == {"ATTENDEE", "ORGANIZER"}
    assert any("PARTSTAT=DECLINED" in line for line in added)
    rows = [r for r in json.loads(world.cli("log", "--json").stdout) if r["kind"] == "calendar"]
    assert [r["state"] for r in rows] == ["sent"]


def test_invitation_only_in_a_xandikos_calendar(world: World, xandikos: Xandikos) -> None:
    """An invitation only in the calendar is read (sync-collection on Xandikos), flagged by
    config, withdrawn in a new thread and declined there."""
    uid = "x-only-1@example.com"
    url = xandikos.put("x-only-1.ics", stored_copy(invite_ics(world, uid, "Chat with Initech")))
    config = world.config(
        f'[calendar]\nurl = "{xandikos.calendar_url}"\n\n[[cancel]]\nuid = "{uid}"\n'
    )
    run_pass(config, Clock(datetime.now(UTC)))
    [letter] = world.received(world.sam)
    assert letter["Subject"] == "Chat with Initech" and letter["In-Reply-To"] is None
    assert "PARTSTAT=DECLINED" in xandikos.get(url).replace("\r\n ", "")
    invites = json.loads(world.cli("invites", "--json", "--cached").stdout)
    assert [(i["folder"], i["calendar"]) for i in invites if i["uid"] == uid] == [
        ("calendar", "declined")
    ]
