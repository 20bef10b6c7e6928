"""The real daemon (`decliner run`) as a subprocess: sd_notify, IDLE, reconnects, signals."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.testbed.daemon_harness import NotifyListener, daemon, running
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config, plain_text, sent_by
from tests.testbed.mailfactory import google_invite
from tests.testbed.proxy import Proxy
from tests.testbed.smtpd import SmtpServers
from tests.testbed.wait import CEILING

pytestmark = pytest.mark.servers
SOON = datetime.now(UTC) + timedelta(days=7)


def write_config(
    tmp_path: Path, dovecot: Dovecot, jane: Account, smtp_port: int, **kw: Any
) -> Path:
    extra = '\n[withdrawal]\ngrace = "0"\n' + kw.pop("extra", "")
    imap_extra = 'poll_interval = "10m"\n' + kw.pop("imap_extra", "")
    text = config_text(
        dovecot, jane, tmp_path, smtp_port=smtp_port, extra=extra, imap_extra=imap_extra, **kw
    )
    load_config(text, tmp_path)
    return tmp_path / "config.toml"


def test_notify_watchdog_hang_and_stop(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """READY after login; WATCHDOG while healthy, none while IMAP hangs, again after; STOPPING
    and exit 0 on SIGTERM."""
    jane = dovecot.new_account("jane")
    listener = NotifyListener(tmp_path / "notify.sock")
    hang = ("IDLE on INBOX: ", "no answer within 3s")
    with Proxy(dovecot.imap_port) as proxy:
        path = write_config(
            tmp_path,
            dovecot,
            jane,
            smtp_servers.plain.port,
            imap_port=proxy.port,
            imap_timeout="3s",
        )
        env = {"NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "2000000"}
        with daemon(path, env) as decliner:
            decliner.wait(lambda: listener.count("READY=1") > 0, "READY=1")
            ready = listener.mark()
            decliner.wait(lambda: listener.count("WATCHDOG=1", ready) >= 2, "WATCHDOG=1 twice")
            proxy.stall()
            hangs = decliner.logged(*hang)
            # The IDLE round trip in flight gets no answer: its last progress is now 3 s old,
            # more than WatchdogSec, so no ping is due any more.
            decliner.wait(lambda: decliner.logged(*hang) > hangs, "IDLE timing out")
            quiet = listener.mark()
            decliner.wait(lambda: decliner.logged(*hang) > hangs + 1, "a reconnect timing out")
            assert listener.count("WATCHDOG=1", quiet) == 0
            proxy.resume()
            answering = listener.mark()
            decliner.wait(lambda: listener.count("WATCHDOG=1", answering) > 0, "WATCHDOG again")
            assert decliner.stop() == 0
    assert listener.count("STOPPING=1")
    listener.close()


def put_invite(
    dovecot: Dovecot, jane: Account, organizer: str, uid: str, *, flagged: bool = False
) -> int:
    """A Google-style invite from `organizer` in Jane's INBOX; its IMAP UID."""
    raw, _ = google_invite(
        organizer=organizer, organizer_name="Sam", me=jane.address, uid=uid, start=SOON
    )
    return dovecot.append(jane, "INBOX", raw, keywords=["Decline"] if flagged else [])


def test_idle_acts_on_a_keyword_without_polling(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """A keyword set by another IMAP client leads to the withdrawal at once (IDLE), not at the poll."""
    jane, sam = dovecot.new_account("jane"), dovecot.new_account("sam")
    uid = put_invite(dovecot, jane, sam.address, "idle@g")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    with running(path, tmp_path) as (decliner, _listener):
        assert sent_by(smtp_servers, jane) == []  # the first pass is over
        dovecot.set_keyword(jane, "INBOX", uid, "Decline")
        decliner.wait(lambda: len(sent_by(smtp_servers, jane)) == 1, "withdrawal")
    assert len(dovecot.fetch_all(sam, "INBOX")) == 1
    journal = decliner.output  # the service logs at INFO by default
    assert "sent withdrawal <" in journal and f"to {sam.address}" in journal
    # SIGTERM closed the IDLE connection under the watcher's read: a quiet stop, no traceback.
    assert "Traceback" not in journal and "Exception in thread" not in journal, journal


def test_reconnects_after_dovecot_restart(
    tmp_path: Path, own_dovecot: Dovecot, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """Dovecot stopped and restarted mid-IDLE: the daemon reconnects and handles a new flag."""
    own = own_dovecot
    jane = own.add_account(dovecot.new_account("jane"))  # SMTP logs in against the shared bed
    path = write_config(tmp_path, own, jane, smtp_servers.plain.port)
    with running(path, tmp_path) as (decliner, _listener):
        # Both connections up (commands and IDLE): the server logged two logins.
        decliner.wait(lambda: own.logins(jane) >= 2, "IDLE connection")
        own.stop()
        decliner.wait(lambda: decliner.logged("IDLE on INBOX: ") > 0, "IDLE noticing the stop")
        own.start()
        put_invite(own, jane, "sam@acme.example", "rc@g", flagged=True)
        decliner.wait(
            lambda: len(sent_by(smtp_servers, jane)) == 1, "withdrawal after reconnecting"
        )


def test_sighup_acts_on_a_new_cancel_entry(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """SIGHUP with a new [[cancel]] entry in the config: the daemon acts on it."""
    jane, sam = dovecot.new_account("jane"), dovecot.new_account("sam")
    put_invite(dovecot, jane, sam.address, "hup@g")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    with running(path, tmp_path) as (decliner, listener):
        assert sent_by(smtp_servers, jane) == []  # the first pass is over
        path.write_text(
            path.read_text() + '\n[[cancel]]\nuid = "hup@g"\nreason = "I took another role"\n'
        )
        decliner.process.send_signal(signal.SIGHUP)
        decliner.wait(lambda: len(sent_by(smtp_servers, jane)) == 1, "withdrawal after SIGHUP")
        assert "I took another role." in plain_text(sent_by(smtp_servers, jane)[0])
        assert listener.count("RELOADING=1")


def test_broken_config_on_sighup_keeps_the_old_one(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """A broken config at SIGHUP is reported and the running config kept."""
    jane = dovecot.new_account("jane")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    good = path.read_text()
    with running(path, tmp_path) as (decliner, listener):
        path.write_text(good + "\n[imap\n")
        decliner.process.send_signal(signal.SIGHUP)
        decliner.wait(lambda: listener.count("READY=1") >= 2, "READY=1 after the reload")
        assert decliner.process.poll() is None
    assert "reload failed, keeping the running config" in decliner.output


def test_second_daemon_refuses_to_start(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """A second `decliner run` on the same state db exits 1 with a clear message."""
    jane = dovecot.new_account("jane")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    with running(path, tmp_path) as (first, _listener):
        second = subprocess.run(
            [sys.executable, "-m", "decliner", "--config", str(path), "run"],
            capture_output=True,
            timeout=CEILING,
            check=False,
        )
        assert second.returncode == 1
        assert b"another decliner is already running" in second.stderr
        assert second.stderr.count(b"\n") == 1
        check = subprocess.run(
            [sys.executable, "-m", "decliner", "--config", str(path), "check", "--offline"],
            capture_output=True,
            timeout=CEILING,
            check=False,
        )
        assert check.returncode == 0
        assert f"daemon running (pid {first.process.pid})".encode() in check.stdout
        assert b"last sync 20" in check.stdout


def test_scheduler_wakes_the_daemon_for_the_followup(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """With polling far off, the follow-up due seconds after the withdrawal is sent on time
    (the APScheduler job for its outbox row wakes the loop)."""
    jane, sam = dovecot.new_account("jane"), dovecot.new_account("sam")
    put_invite(dovecot, jane, sam.address, "sch@g", flagged=True)
    followup = '\n[followup]\ndelay = "3s"\nbusiness_hours = ""\nbusiness_days = ["mon","tue","wed","thu","fri","sat","sun"]\n'
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port, extra=followup)
    with running(path, tmp_path) as (decliner, _listener):
        decliner.wait(lambda: len(sent_by(smtp_servers, jane)) >= 1, "withdrawal")
        decliner.wait(lambda: len(sent_by(smtp_servers, jane)) >= 2, "follow-up")
    assert len(sent_by(smtp_servers, jane)) == 2  # and nothing more, up to the daemon's exit


def test_daemon_on_a_maildir_tree(tmp_path: Path) -> None:
    """The daemon over a local Maildir: an invite copied into the flag folder is withdrawn at the
    next poll, through the maildir transport; SIGTERM stops it cleanly."""
    from tests.testbed.maildir_tree import Tree, invite

    tree = Tree(tmp_path)
    config = tree.config()
    path = config.source
    path.write_text(
        path.read_text().replace('path = "mail"\n', 'path = "mail"\npoll_interval = "1s"\n')
    )
    key = tree.add(invite("md@g")[0])
    with running(path, tmp_path) as (decliner, _listener):
        assert tree.received() == []  # the first pass is over
        tree.copy(key)
        decliner.wait(lambda: len(tree.received()) == 1, "withdrawal")


def test_a_refused_login_stops_the_daemon(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """A wrong password will not mend itself: the daemon says so in one line and exits 1."""
    jane = dovecot.new_account("jane")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    path.write_text(path.read_text().replace(jane.password, "CANARY-wrong"))
    with daemon(path) as decliner:
        assert decliner.exit_status() == 1
    output = decliner.output
    assert f"login as {jane.address} refused" in output
    assert "Traceback" not in output and "CANARY" not in output
