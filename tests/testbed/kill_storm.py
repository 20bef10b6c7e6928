"""The real daemon SIGKILLed at random moments while invitations arrive (issue 17, item 1),
shared by the quick test in `make test` and the 200-kill run in `make stress`. Counted at
the SMTP server by Message-ID, in the Sent folder, in the outbox and in the calendar."""

from __future__ import annotations

import contextlib
import email
import email.policy
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from decliner.config import Config
from decliner.core.plan.outbox import OutboxRow
from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.daemon_harness import running
from tests.testbed.helpers import config_text, load_config
from tests.testbed.proxy import Proxy


@dataclass(frozen=True)
class Tally:
    """What a kill storm did and found."""

    kills: int
    invitations: int
    identical_resends: int
    attempts: int


def kill_storm(cal: CalendarWorld, *, kills: int, invitations: int, seed: int) -> Tally:
    """`invitations` flagged invitations (mail and calendar) arriving one by one while the
    daemon is started and SIGKILLed `kills` times at random moments, SMTP answering slowly;
    then the daemon runs to the end. Checks exactly-once; returns the tally."""
    rng = random.Random(seed)
    world = cal.world
    start = datetime.now(UTC) + timedelta(days=5)
    urls: dict[str, str] = {}
    with Proxy(world.smtp.plain.port, delay=0.05) as slow:  # widens the windows mid-send
        extra = (
            # One letter per invitation, however they arrive: the storm counts letters.
            '\n[withdrawal]\ngrace = "0"\nscope = "interview"\n[followup]\ndelay = "30d"\n'
            f'[calendar]\nurl = "{cal.radicale.url}"\n'
        )
        text = config_text(world.dovecot, world.jane, world.tmp, smtp_port=slow.port, extra=extra)
        config = load_config(text, world.tmp)
        args = [sys.executable, "-m", "decliner", "--config", str(config.source), "run"]
        journal = world.tmp / "killed-daemons.log"
        every = max(kills // invitations, 1)
        with journal.open("ab") as out:
            for kill in range(kills):
                if kill % every == 0 and len(urls) < invitations:
                    uid = f"killed-{seed}-{len(urls)}@example.com"
                    urls[uid] = cal.invite_both(uid, start + timedelta(hours=len(urls)))
                process = subprocess.Popen(args, stdout=out, stderr=out)
                # A fault schedule, not a wait for a result: the daemon never exits by itself.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=rng.uniform(0.05, 1.5))
                process.kill()
                process.wait()
        while len(urls) < invitations:
            uid = f"killed-{seed}-{len(urls)}@example.com"
            urls[uid] = cal.invite_both(uid, start + timedelta(hours=len(urls)))
        with running(config.source, world.tmp) as (decliner, _listener):
            decliner.wait(lambda: _finished(config, invitations), "every row sent")
        died = journal.read_text(errors="replace")
        assert "Traceback" not in died, died[-3000:]
    return _check(cal, config, urls, kills)


def _rows(config: Config) -> list[OutboxRow]:
    with wiring.open_store(config) as store:
        return outbox_db.rows(store.connection)


def _finished(config: Config, invitations: int) -> bool:
    rows = _rows(config)
    done = Counter(
        r.kind for r in rows if r.state == "sent" and (r.kind != "withdrawal" or r.copied)
    )
    return done["withdrawal"] == done["calendar"] == invitations


def _check(cal: CalendarWorld, config: Config, urls: dict[str, str], kills: int) -> Tally:
    world = cal.world
    rows = _rows(config)
    withdrawals = [r for r in rows if r.kind == "withdrawal"]
    assert len(withdrawals) == len(urls)
    assert all(r.state == "sent" and r.copied for r in withdrawals)  # no row stuck
    assert sorted(r.state for r in rows if r.kind == "followup") == ["scheduled"] * len(urls)
    assert [r.state for r in rows if r.kind == "calendar"] == ["sent"] * len(urls)
    raws = world.dovecot.fetch_all(world.sam, "INBOX")
    by_id = Counter(
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in raws
    )
    stored = {r.message_id: r for r in withdrawals}
    assert set(by_id) == set(stored)  # none lost, none from outside the outbox
    resends = 0
    for message_id, copies in by_id.items():
        if copies > 1:  # SPEC 5's one exception: the same bytes again, after a cut
            row = stored[message_id]
            assert row.attempts >= copies
            same = [raw for raw in raws if message_id.encode() in raw]
            assert all(_body(raw) == _body(same[0]) for raw in same)
            resends += copies - 1
    filed = Counter(
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in world.dovecot.fetch_all(world.jane, "Sent")
    )
    assert filed == Counter(dict.fromkeys(stored, 1))  # one sent copy each, never two
    for url in urls.values():
        text = cal.get(url)
        assert text.count("BEGIN:VEVENT") == 1 and text.count("PARTSTAT=DECLINED") == 1
    return Tally(kills, len(urls), resends, sum(r.attempts for r in withdrawals))


def _body(raw: bytes) -> bytes:
    """The message as we sent it, without the headers the receiving side prepended."""
    return raw[raw.find(b"Message-ID:") :].replace(b"\r\n", b"\n")
