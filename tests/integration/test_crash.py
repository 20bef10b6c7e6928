"""Exactly once across crashes: `run --once` killed with SIGKILL at the worst moments."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from decliner.core.plan.outbox import OutboxRow
from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.mailfactory import google_invite
from tests.testbed.proxy import Proxy
from tests.testbed.smtpd import SmtpServers
from tests.testbed.wait import wait_until

pytestmark = pytest.mark.servers


def start_run(config_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "decliner", "--config", str(config_path), "run", "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def setup(tmp_path: Path, dovecot: Dovecot, smtp_port: int) -> tuple[Account, Account, Path]:
    jane, sam = dovecot.new_account("jane"), dovecot.new_account("sam")
    raw, _ = google_invite(
        organizer=sam.address,
        organizer_name="Sam",
        me=jane.address,
        uid=f"crash-{sam.address}",
        start=datetime.now(UTC) + timedelta(days=5),
    )
    dovecot.append(jane, "INBOX", raw, keywords=["Decline"])
    # The kill must come first, however late: no SMTP timeout may record an outcome.
    text = config_text(
        dovecot,
        jane,
        tmp_path,
        smtp_port=smtp_port,
        smtp_timeout="10m",
        extra='\n[withdrawal]\ngrace = "0"\n',
    )
    load_config(text, tmp_path)
    return jane, sam, tmp_path / "config.toml"


def all_rows(config_path: Path) -> list[OutboxRow]:
    """Every row of the outbox."""
    from decliner import config as cfg

    with wiring.open_store(cfg.load(config_path)) as store:
        return outbox_db.rows(store.connection)


def rows(config_path: Path) -> list[OutboxRow]:
    """The withdrawal rows of the outbox."""
    return [r for r in all_rows(config_path) if r.kind == "withdrawal"]


def test_killed_before_the_server_got_anything(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """Killed while the attempt is counted but the server has nothing: the next pass sends it, once."""
    with Proxy(smtp_servers.plain.port) as proxy:
        proxy.stall()
        jane, sam, path = setup(tmp_path, dovecot, proxy.port)
        process = start_run(path)
        wait_until(
            lambda: tmp_path.joinpath("state.db").exists() and any(r.attempts for r in rows(path)),
            "the attempt to be counted",
        )
        process.send_signal(signal.SIGKILL)
        process.communicate()
        [row] = rows(path)
        assert (row.state, row.attempts, row.last_outcome) == ("pending", 1, None)
        proxy.resume()
    text = path.read_text().replace(f"port = {proxy.port}", f"port = {smtp_servers.plain.port}")
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "decliner", "--config", str(path), "run", "--once"], check=False
    )
    assert done.returncode == 0
    assert len(dovecot.fetch_all(sam, "INBOX")) == 1
    [row] = rows(path)
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(dovecot.fetch_all(jane, "Sent")) == 1


def test_killed_after_the_server_accepted(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """Killed after the server took the message but before decliner heard: the retry sends the
    same bytes with the same Message-ID (SPEC 5's one exception), and nothing else."""
    with Proxy(smtp_servers.plain.port) as proxy:
        proxy.hold_replies_after_data = True
        jane, sam, path = setup(tmp_path, dovecot, proxy.port)
        process = start_run(path)
        wait_until(lambda: len(dovecot.fetch_all(sam, "INBOX")) == 1, "the recruiter's copy")
        process.send_signal(signal.SIGKILL)
        process.communicate()
        [row] = rows(path)
        assert (row.state, row.attempts, row.last_outcome) == ("pending", 1, None)
        proxy.hold_replies_after_data = False
        proxy.resume()
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-m", "decliner", "--config", str(path), "run", "--once"],
                check=False,
            )
            assert done.returncode == 0
    copies = dovecot.fetch_all(sam, "INBOX")
    [row] = rows(path)
    assert (row.state, row.attempts) == ("sent", 2)
    assert [(r.kind, r.state) for r in all_rows(path)] == [
        ("withdrawal", "sent"),
        ("followup", "scheduled"),
    ]
    assert row.raw is not None
    assert len(copies) == 2
    for copy in copies:  # the same bytes, under the trace headers the delivery adds
        assert row.raw.replace(b"\r\n", b"\n") in copy.replace(b"\r\n", b"\n")
    assert len(dovecot.fetch_all(jane, "Sent")) == 1
