"""The crash-matrix case: `run --once` or the daemon SIGKILLed at a named moment
(decliner/failpoints.py), then run to the end and everything counted."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import partial

from decliner.config import Config
from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.daemon_harness import running
from tests.testbed.radicale import Radicale
from tests.testbed.wait import wait_until
from tests.testbed.world import World

# Killed after the server said 250 and before that was recorded: SPEC 5's one exception,
# the same bytes and Message-ID sent again (clients fold the two into one).
RESENT_SAME_ID = {"smtp-accepted"}


def run_once(config: Config, point: str = "") -> int:
    env = {**os.environ, "DECLINER_FAILPOINT": point}
    done = subprocess.run(
        [sys.executable, "-m", "decliner", "--config", str(config.source), "run", "--once"],
        env=env,
        capture_output=True,
        check=False,
    )
    return done.returncode


def killed_then_finished(world: World, radicale: Radicale, point: str, *, daemon: bool) -> None:
    """The crash-matrix case at `point`, with `run --once` or with the real daemon (`run`),
    which `make stress` repeats 25 times per moment."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    url = cal.invite_both(f"matrix-{point}@example.com", datetime.now(UTC) + timedelta(days=5))
    config = cal.config()

    if daemon:
        assert run_daemon(config, point) == -signal.SIGKILL, f"{point} was never reached"
        with running(config.source, world.tmp) as (decliner, _listener):
            decliner.wait(partial(_finished, config), "every row done")
    else:
        assert run_once(config, point) == -signal.SIGKILL, f"{point} was never reached"
        for _ in range(2):
            assert run_once(config) == 0

    received = world.received(world.sam)
    ids = {str(m["Message-ID"]) for m in received}
    assert len(ids) == 1, ids
    assert len(received) == (2 if point in RESENT_SAME_ID else 1)
    with wiring.open_store(config) as store:
        rows = {r.kind: r for r in outbox_db.rows(store.connection)}
    assert rows["withdrawal"].state == "sent" and rows["withdrawal"].copied
    assert rows["withdrawal"].message_id in ids
    assert rows["followup"].state == "scheduled"
    assert rows["calendar"].state == "sent"
    sent_folder = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in world.dovecot.fetch_all(world.jane, "Sent")
    ]
    assert [str(m["Message-ID"]) for m in sent_folder] == [rows["withdrawal"].message_id]
    assert cal.get(url).count("PARTSTAT=DECLINED") == 1


def run_daemon(config: Config, point: str) -> int:
    """`decliner run` with the failpoint set, until it kills itself there (its first pass)."""
    env = {**os.environ, "DECLINER_FAILPOINT": point}
    process = subprocess.Popen(
        [sys.executable, "-m", "decliner", "--config", str(config.source), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: process.poll() is not None, f"the daemon to reach {point}")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    return process.returncode


def _finished(config: Config) -> bool:
    with wiring.open_store(config) as store:
        rows = {r.kind: r for r in outbox_db.rows(store.connection)}
    withdrawal, calendar = rows.get("withdrawal"), rows.get("calendar")
    return bool(withdrawal and withdrawal.copied and calendar and calendar.state == "sent")
