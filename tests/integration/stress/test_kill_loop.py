"""Long fault runs (`make stress`): `run --once` SIGKILLed at random moments, many times.

Whatever the moment, no recruiter ever gets two different withdrawals: every
copy that arrives is the one stored message, byte for byte (SPEC 5's one
exception is a resend of that same message after a cut), and each event has
exactly one withdrawal in the outbox.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from decliner import config as cfg
from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.mailfactory import google_invite
from tests.testbed.proxy import Proxy
from tests.testbed.smtpd import SmtpServers

pytestmark = [pytest.mark.servers, pytest.mark.stress, pytest.mark.timeout(900)]
ROUNDS = 30
INVITES = 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_kills_never_send_two_different_messages(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers, seed: int
) -> None:
    """Random SIGKILLs during passes over a slow SMTP server: one distinct withdrawal per event."""
    rng = random.Random(seed)
    jane = dovecot.new_account("jane")
    recruiters = [dovecot.new_account(f"rec{n}") for n in range(INVITES)]
    for n, sam in enumerate(recruiters):
        raw, _ = google_invite(
            organizer=sam.address,
            organizer_name="Sam",
            me=jane.address,
            uid=f"kill{seed}-{n}@g",
            start=datetime.now(UTC) + timedelta(days=5),
        )
        dovecot.append(jane, "INBOX", raw, keywords=["Decline"])
    # Every SMTP reply is delayed, which widens the window in which a kill lands mid-send.
    with Proxy(smtp_servers.plain.port, delay=0.15) as slow:
        extra = '\n[withdrawal]\ngrace = "0"\n[followup]\ndelay = "30d"\n'
        load_config(
            config_text(dovecot, jane, tmp_path, smtp_port=slow.port, extra=extra), tmp_path
        )
        path = tmp_path / "config.toml"
        args = [sys.executable, "-m", "decliner", "--config", str(path), "run", "--once"]
        for _ in range(ROUNDS):
            process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with contextlib.suppress(subprocess.TimeoutExpired):  # a pass that ends needs no kill
                process.wait(timeout=rng.uniform(0.5, 4.0))
            process.send_signal(signal.SIGKILL)
            process.wait()
            assert_followups_queued(path)
        for _ in range(2):
            subprocess.run(args, check=False, capture_output=True)
    assert_followups_queued(path)
    with wiring.open_store(cfg.load(path)) as store:
        rows = [r for r in outbox_db.rows(store.connection) if r.kind == "withdrawal"]
    assert len(rows) == INVITES
    attempts = resends = 0
    for sam in recruiters:
        [row] = [r for r in rows if r.to == (sam.address,)]
        assert row.raw is not None and row.state in ("sent", "pending")
        copies = dovecot.fetch_all(sam, "INBOX")
        assert copies or row.state == "pending"
        for copy in copies:
            assert row.raw.replace(b"\r\n", b"\n") in copy.replace(b"\r\n", b"\n")
        attempts += row.attempts
        resends += max(len(copies) - 1, 0)
    print(f"seed {seed}: {INVITES} withdrawals, {attempts} attempts, {resends} identical resends")


def assert_followups_queued(path: Path) -> None:
    """SPEC 8: wherever a kill lands, a withdrawal recorded as sent has its follow-up queued."""
    with wiring.open_store(cfg.load(path)) as store:
        rows = outbox_db.rows(store.connection)
    sent = {r.event_id for r in rows if r.kind == "withdrawal" and r.state == "sent"}
    assert {r.event_id for r in rows if r.kind == "followup"} == sent
