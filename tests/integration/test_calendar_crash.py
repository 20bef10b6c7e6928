"""Exactly once in effect for the calendar update: `run --once` killed at the bad moments."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from decliner.config import Config
from decliner.core.plan.outbox import OutboxRow
from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.proxy import Proxy
from tests.testbed.radicale import Radicale
from tests.testbed.wait import wait_until
from tests.testbed.world import SOON, World

pytestmark = pytest.mark.servers


def calendar_row(config: Config) -> OutboxRow:
    with wiring.open_store(config) as store:
        [row] = [r for r in outbox_db.rows(store.connection) if r.kind == "calendar"]
        return row


def run_once(config: Config) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "decliner", "--config", str(config.source), "run", "--once"],
        check=False,
        capture_output=True,
    )


@pytest.mark.parametrize("on_withdraw", ["decline", "delete"])
def test_killed_after_the_server_took_the_update(
    world: World, radicale: Radicale, on_withdraw: str
) -> None:
    """The PUT (or DELETE) reached the server, the process died before hearing the answer:
    the next pass finds the event already declined (or gone), records the row as done on its
    second attempt, and neither the calendar nor the mail sees anything twice."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    url = cal.invite_both(f"crash-{on_withdraw}@example.com", SOON + timedelta(days=2))
    method = "PUT" if on_withdraw == "decline" else "DELETE"
    with Proxy(radicale.port) as proxy:
        config = cal.config(f'on_withdraw = "{on_withdraw}"', url=f"http://127.0.0.1:{proxy.port}/")
        proxy.hold_replies_after_request = method
        process = subprocess.Popen(
            [sys.executable, "-m", "decliner", "--config", str(config.source), "run", "--once"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def applied() -> bool:
            if on_withdraw == "delete":
                return not radicale.exists(world.jane, url)
            return "PARTSTAT=DECLINED" in cal.get(url)

        wait_until(applied, f"the server to apply the {method}")
        process.send_signal(signal.SIGKILL)
        process.communicate()
        row = calendar_row(config)
        assert (row.state, row.attempts, row.last_outcome) == ("pending", 1, None)
        proxy.hold_replies_after_request = ""
        proxy.resume()
        row_due = row.due
    config = cal.config(f'on_withdraw = "{on_withdraw}"')
    assert row_due <= datetime.now(UTC)
    done = run_once(config)
    assert done.returncode == 0, done.stdout.decode()
    row = calendar_row(config)
    assert (row.state, row.attempts) == ("sent", 2)
    if on_withdraw == "decline":
        assert cal.get(url).count("PARTSTAT=DECLINED") == 1
    assert len(world.received(world.sam)) == 1


def test_killed_before_the_update_left(world: World, radicale: Radicale) -> None:
    """Killed after the mail went and the calendar row's attempt began, before the server
    answered anything: the next pass does the update once, and the mail is not sent again."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    url = cal.invite_both("crash-early@example.com", SOON + timedelta(days=2))
    with Proxy(radicale.port) as proxy:
        config = cal.config("read_invites = false", url=f"http://127.0.0.1:{proxy.port}/")
        proxy.hold_replies_after_request = "PROPFIND"  # the update's discovery never answers
        process = subprocess.Popen(
            [sys.executable, "-m", "decliner", "--config", str(config.source), "run", "--once"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: any(r.startswith("PROPFIND") for r in proxy.requests), "discovery")
        process.send_signal(signal.SIGKILL)
        process.communicate()
        row = calendar_row(config)
        assert (row.state, row.attempts, row.last_outcome) == ("pending", 1, None)
        proxy.hold_replies_after_request = ""
        proxy.resume()
    config = cal.config("read_invites = false")
    assert run_once(config).returncode == 0
    assert run_once(config).returncode == 0
    row = calendar_row(config)
    assert (row.state, row.attempts) == ("sent", 2)
    assert cal.get(url).count("PARTSTAT=DECLINED") == 1
    assert len(world.received(world.sam)) == 1
