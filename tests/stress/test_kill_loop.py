"""Long fault runs (`make stress`): `run --once` SIGKILLed at random moments, many times.

Whatever the moment, the recruiter never gets two different withdrawals: every
copy that arrives carries the same Message-ID and bytes (SPEC 5's one exception
is a resend of the same message), and the outbox ends with one sent withdrawal.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from decliner import config as cfg
from decliner import service
from decliner.store import outbox as outbox_db
from tests.helpers import config_text, load_config
from tests.mailfactory import google_invite
from tests.testbed.dovecot import Dovecot
from tests.testbed.smtpd import SmtpServers

pytestmark = [pytest.mark.servers, pytest.mark.stress]
ROUNDS = 30


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_kills_never_send_two_different_messages(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers, seed: int
) -> None:
    """Random SIGKILLs during passes: at most one distinct withdrawal ever reaches the recruiter."""
    rng = random.Random(seed)
    jane, sam = dovecot.new_account("jane"), dovecot.new_account("sam")
    raw, _ = google_invite(
        organizer=sam.address,
        organizer_name="Sam",
        me=jane.address,
        uid=f"kill{seed}@g",
        start=datetime.now(UTC) + timedelta(days=5),
    )
    dovecot.append(jane, "INBOX", raw, keywords=["Decline"])
    text = config_text(
        dovecot,
        jane,
        tmp_path,
        smtp_port=smtp_servers.plain.port,
        extra='\n[withdrawal]\ngrace = "0"\n',
    )
    load_config(text, tmp_path)
    path = tmp_path / "config.toml"
    args = [sys.executable, "-m", "decliner", "--config", str(path), "run", "--once"]
    for _ in range(ROUNDS):
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
    for _ in range(2):
        assert subprocess.run(args, check=False, capture_output=True).returncode == 0
    with service.open_store(cfg.load(path)) as store:
        [row] = [r for r in outbox_db.rows(store.connection) if r.kind == "withdrawal"]
    assert row.state == "sent" and row.raw is not None
    copies = dovecot.fetch_all(sam, "INBOX")
    assert copies, "the withdrawal never arrived"
    for copy in copies:
        assert row.raw.replace(b"\r\n", b"\n") in copy.replace(b"\r\n", b"\n")
    print(
        f"seed {seed}: {len(copies)} identical cop{'y' if len(copies) == 1 else 'ies'}, {row.attempts} attempts"
    )
