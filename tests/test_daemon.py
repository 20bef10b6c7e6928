"""The real daemon (`decliner run`) as a subprocess: sd_notify, IDLE, reconnects, signals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import config_text, load_config
from tests.mailfactory import google_invite
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.proxy import Proxy
from tests.testbed.smtpd import SmtpServers

pytestmark = pytest.mark.servers
SOON = datetime.now(UTC) + timedelta(days=7)


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; records what arrives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def times(self, field: str) -> list[float]:
        return [t for t, text in self.messages if field in text.splitlines()]

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def daemon(
    config_path: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    import os

    process = subprocess.Popen(
        [sys.executable, "-m", "decliner", "--config", str(config_path), "run"],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        output = process.communicate(timeout=10)[0].decode(errors="replace")
        print(output)  # shown by pytest when a test fails


def write_config(
    tmp_path: Path, dovecot: Dovecot, jane: Account, smtp_port: int, **kw: str
) -> Path:
    extra = '\n[withdrawal]\ngrace = "0"\n' + kw.pop("extra", "")
    imap_extra = 'poll_interval = "10m"\n' + kw.pop("imap_extra", "")
    text = config_text(
        dovecot, jane, tmp_path, smtp_port=smtp_port, extra=extra, imap_extra=imap_extra, **kw
    )  # type: ignore[arg-type]
    load_config(text, tmp_path)
    return tmp_path / "config.toml"


def sent_by(smtp: SmtpServers, account: Account) -> list[bytes]:
    return [m.data for m in smtp.plain.messages if m.mail_from == account.address]


def test_notify_watchdog_hang_and_stop(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """READY after login; WATCHDOG while healthy, none while IMAP hangs, again after; STOPPING
    and exit 0 on SIGTERM."""
    jane = dovecot.new_account("jane")
    listener = NotifyListener(tmp_path / "notify.sock")
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
        with daemon(path, env) as process:
            wait_for(lambda: bool(listener.times("READY=1")), what="READY=1")
            time.sleep(3)
            ready_at = listener.times("READY=1")[0]
            assert len([t for t in listener.times("WATCHDOG=1") if t > ready_at]) >= 2
            proxy.stall()
            time.sleep(1.5)  # a ping already on its way may still arrive
            quiet_from = time.monotonic()
            time.sleep(3)
            assert [t for t in listener.times("WATCHDOG=1") if t > quiet_from] == []
            proxy.resume()
            wait_for(
                lambda: any(t > quiet_from + 3 for t in listener.times("WATCHDOG=1")),
                30,
                "WATCHDOG again",
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
    assert listener.times("STOPPING=1")
    listener.close()


@contextmanager
def running(
    path: Path, tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], NotifyListener]]:
    """The daemon with a NOTIFY_SOCKET, past READY=1. Leaving the block SIGTERMs it: it must
    send STOPPING=1 and exit 0 within 10 s."""
    listener = NotifyListener(tmp_path / "notify.sock")
    try:
        with daemon(path, {"NOTIFY_SOCKET": str(listener.path), **(env or {})}) as process:
            wait_for(lambda: bool(listener.times("READY=1")), what="READY=1")
            yield process, listener
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
            assert listener.times("STOPPING=1")
    finally:
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
    with running(path, tmp_path) as (process, _listener):
        time.sleep(1.5)  # the first pass and IDLE are under way
        assert sent_by(smtp_servers, jane) == []
        dovecot.set_keyword(jane, "INBOX", uid, "Decline")
        wait_for(lambda: len(sent_by(smtp_servers, jane)) == 1, 15, "the withdrawal")
    assert len(dovecot.fetch_all(sam, "INBOX")) == 1
    journal = process.communicate()[0].decode()  # the service logs at INFO by default
    assert "sent withdrawal <" in journal and f"to {sam.address}" in journal


def test_reconnects_after_dovecot_restart(
    tmp_path: Path, own_dovecot: Dovecot, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """Dovecot stopped and restarted mid-IDLE: the daemon reconnects and handles a new flag."""
    own = own_dovecot
    jane = own.add_account(dovecot.new_account("jane"))  # SMTP logs in against the shared bed
    path = write_config(tmp_path, own, jane, smtp_servers.plain.port)
    with running(path, tmp_path):
        time.sleep(1)
        own.stop()
        time.sleep(2)
        own.start()
        put_invite(own, jane, "sam@acme.example", "rc@g", flagged=True)
        wait_for(
            lambda: len(sent_by(smtp_servers, jane)) == 1, 40, "the withdrawal after reconnecting"
        )


def test_sighup_acts_on_a_new_cancel_entry(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """SIGHUP with a new [[cancel]] entry in the config: the daemon acts on it."""
    jane, sam = dovecot.new_account("jane"), dovecot.new_account("sam")
    put_invite(dovecot, jane, sam.address, "hup@g")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    with running(path, tmp_path) as (process, listener):
        time.sleep(1.5)
        assert sent_by(smtp_servers, jane) == []
        path.write_text(
            path.read_text() + '\n[[cancel]]\nuid = "hup@g"\nreason = "I took another role"\n'
        )
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(sent_by(smtp_servers, jane)) == 1, 15, "the withdrawal after SIGHUP")
        assert b"I took another role." in sent_by(smtp_servers, jane)[0]
        assert listener.times("RELOADING=1")


def test_broken_config_on_sighup_keeps_the_old_one(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """A broken config at SIGHUP is reported and the running config kept."""
    jane = dovecot.new_account("jane")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    good = path.read_text()
    with running(path, tmp_path) as (process, listener):
        path.write_text(good + "\n[imap\n")
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(listener.times("READY=1")) >= 2, what="READY=1 after the reload")
        assert process.poll() is None
    output = process.communicate()[0].decode()
    assert "reload failed, keeping the running config" in output


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
            timeout=30,
            check=False,
        )
        assert second.returncode == 1
        assert b"another decliner is already running" in second.stderr
        assert second.stderr.count(b"\n") == 1
        check = subprocess.run(
            [sys.executable, "-m", "decliner", "--config", str(path), "check", "--offline"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert check.returncode == 0
        assert f"daemon running (pid {first.pid})".encode() in check.stdout
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
    with running(path, tmp_path):
        wait_for(lambda: len(sent_by(smtp_servers, jane)) == 1, 15, "the withdrawal")
        wait_for(lambda: len(sent_by(smtp_servers, jane)) == 2, 20, "the follow-up")
        time.sleep(1)
        assert len(sent_by(smtp_servers, jane)) == 2


def test_daemon_on_a_maildir_tree(tmp_path: Path) -> None:
    """The daemon over a local Maildir: an invite copied into the flag folder is withdrawn at the
    next poll, through the maildir transport; SIGTERM stops it cleanly."""
    from tests.test_maildir import Tree, invite

    tree = Tree(tmp_path)
    config = tree.config()
    path = config.source
    path.write_text(
        path.read_text().replace('path = "mail"\n', 'path = "mail"\npoll_interval = "1s"\n')
    )
    key = tree.add(invite("md@g")[0])
    with running(path, tmp_path):
        time.sleep(1.5)
        assert tree.received() == []
        tree.copy(key)
        wait_for(lambda: len(tree.received()) == 1, 15, "the withdrawal")


def test_a_refused_login_stops_the_daemon(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """A wrong password will not mend itself: the daemon says so in one line and exits 1."""
    jane = dovecot.new_account("jane")
    path = write_config(tmp_path, dovecot, jane, smtp_servers.plain.port)
    path.write_text(path.read_text().replace(jane.password, "CANARY-wrong"))
    with daemon(path) as process:
        assert process.wait(timeout=20) == 1
        output = process.communicate()[0].decode()
    assert f"login as {jane.address} refused" in output
    assert "Traceback" not in output and "CANARY" not in output
