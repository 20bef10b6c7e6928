"""A private, throwaway Dovecot (IMAP, IMAPS, LMTP) run as root on loopback ports."""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import os
import pwd
import re
import secrets
import signal
import smtplib
import ssl
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from tests.testbed import procs, wait
from tests.testbed.certs import make_certs
from tests.testbed.dovecot_conf import Layout, render_config, render_oauth2
from tests.testbed.net import free_ports

DOVECOT_BIN = Path("/usr/sbin/dovecot")
MAIL_USER = "mail"
_APPENDUID = re.compile(rb"APPENDUID \d+ (\d+)")


@dataclass(frozen=True)
class Account:
    """A mailbox user on the private Dovecot; every password contains 'CANARY'."""

    address: str
    password: str

    @property
    def username(self) -> str:
        """IMAP/SMTP login name (the address)."""
        return self.address


class DovecotError(RuntimeError):
    """The private Dovecot did not start or stop as expected."""


class Dovecot:
    """A private Dovecot under `root`; ports are chosen once and kept across restarts."""

    host = "127.0.0.1"

    def __init__(
        self, root: Path, introspection_url: str | None = None, extra_config: str = ""
    ) -> None:
        self.root = root
        self.imap_port, self.imaps_port, self.lmtp_port = free_ports(3)
        certs = make_certs(root / "certs")
        self.ca_file = certs.ca_file
        self.other_ca_file = certs.other_ca_file
        self.cert_file = certs.cert_file
        self.key_file = certs.key_file
        self.layout = Layout(
            root=root,
            imap_port=self.imap_port,
            imaps_port=self.imaps_port,
            lmtp_port=self.lmtp_port,
            cert_file=certs.cert_file,
            key_file=certs.key_file,
            introspection_url=introspection_url,
            extra=extra_config,
        )
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._passwords: dict[str, str] = {}
        self._popen: subprocess.Popen[bytes] | None = None
        self._write_tree()
        self._probe = self.new_account("probe")

    def _write_tree(self) -> None:
        layout = self.layout
        mail = pwd.getpwnam(MAIL_USER)
        for directory in (layout.config.parent, layout.base_dir, layout.state_dir):
            directory.mkdir(parents=True, exist_ok=True)
        layout.log_path.parent.mkdir(parents=True, exist_ok=True)
        layout.mail_dir.mkdir(exist_ok=True)
        os.chown(layout.mail_dir, mail.pw_uid, mail.pw_gid)
        for directory in (self.root, layout.config.parent, self.ca_file.parent):
            directory.chmod(0o755)
        layout.passwd_dir.mkdir(exist_ok=True)
        layout.passwd_dir.chmod(0o755)
        if layout.introspection_url:
            layout.oauth2_file.write_text(render_oauth2(layout.introspection_url))
        layout.config.write_text(render_config(layout))

    def _check_traversable(self) -> None:
        for directory in [self.root, *self.root.parents]:
            if not directory.stat().st_mode & 0o001:
                raise DovecotError(
                    f"{directory} is not world-traversable; the mail and login users "
                    "could not reach the Dovecot root"
                )

    def start(self, ceiling: float = wait.CEILING) -> None:
        """Start the master and wait until a real IMAP login succeeds (a busy machine may take
        a while; only a Dovecot that never answers reaches `ceiling`)."""
        if not DOVECOT_BIN.exists():
            raise DovecotError(f"{DOVECOT_BIN} is not installed")
        if self.running:
            raise DovecotError("already running")
        self._check_traversable()
        out_path = self.layout.log_path.parent / "start.out"
        # -F keeps the master our child, so we reap it and leave no zombie for init.
        with out_path.open("ab") as out:
            self._popen = subprocess.Popen(
                [str(DOVECOT_BIN), "-F", "-c", str(self.layout.config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        self._wait_login(time.monotonic() + ceiling)

    def _wait_login(self, deadline: float) -> None:
        error: Exception | None = None
        while time.monotonic() < deadline:
            if self._popen is not None and self._popen.poll() is not None:
                error = DovecotError(f"master exited with {self._popen.returncode}")
                break
            try:
                with self.imap(self._probe):
                    return
            except (OSError, imaplib.IMAP4.error) as exc:
                error = exc
                time.sleep(0.05)
        self.stop()
        raise DovecotError(f"IMAP login did not succeed ({error!r}):\n{self._diagnostics()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the master (SIGKILL after `timeout`), then SIGKILL whatever of its children
        outlived it; a process that survives SIGKILL for `wait.CEILING` is an error."""
        popen, self._popen = self._popen, None
        if popen is None:
            return
        children = procs.children_of(popen.pid)
        popen.terminate()
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(wait.CEILING)
        # imap processes with a client in IDLE outlive the master; don't wait long for them.
        leftovers = procs.wait_gone(children, 0.5)
        procs.kill(leftovers, signal.SIGKILL)
        if procs.wait_gone(leftovers, wait.CEILING):
            raise DovecotError(f"Dovecot processes survived SIGKILL: {leftovers}")

    @property
    def running(self) -> bool:
        """True while the master process is alive."""
        return self._popen is not None and self._popen.poll() is None

    def pids(self) -> list[int]:
        """Master and child pids (for leak checks)."""
        if self._popen is None:
            return []
        return [self._popen.pid, *(p.pid for p in procs.children_of(self._popen.pid))]

    def _diagnostics(self) -> str:
        parts = [
            f"--- {path.name} ---\n{path.read_text(errors='replace')[-4000:]}"
            for path in (
                self.layout.log_path.parent / "start.out",
                self.layout.log_path,
                self.layout.info_log_path,
            )
            if path.exists()
        ]
        return "\n".join(parts)

    def log_text(self) -> str:
        """Error log and info log contents (for debugging and leak assertions)."""
        return self._diagnostics()

    def logins(self, account: Account) -> int:
        """How many IMAP logins of `account` the server has logged (its connections so far)."""
        path = self.layout.info_log_path
        text = path.read_text(errors="replace") if path.exists() else ""
        return text.count(f"imap-login: Info: Login: user=<{account.address}>")

    def login_methods(self, account: Account) -> list[str]:
        """The SASL mechanism of each IMAP login of `account` logged so far (PLAIN, XOAUTH2 ...)."""
        path = self.layout.info_log_path
        text = path.read_text(errors="replace") if path.exists() else ""
        marker = f"imap-login: Info: Login: user=<{account.address}>, method="
        return [
            line.partition(marker)[2].split(",")[0] for line in text.splitlines() if marker in line
        ]

    def new_account(self, local_part_hint: str = "jane") -> Account:
        """Create a fresh user with empty mailboxes, usable at once."""
        with self._lock:
            address = f"{local_part_hint.lower()}-{next(self._counter)}@example.com"
            password = f"pw-{secrets.token_urlsafe(12)}-CANARY-{secrets.token_hex(4)}"
            entry = self.layout.passwd_dir / address
            entry.write_text(f"{address}:{{PLAIN}}{password}::::::\n")
            entry.chmod(0o644)
            self._passwords[address] = password
        return Account(address, password)

    def add_account(self, account: Account) -> Account:
        """Make an account of another test-bed Dovecot a user here too (same password)."""
        with self._lock:
            entry = self.layout.passwd_dir / account.address
            entry.write_text(f"{account.address}:{{PLAIN}}{account.password}::::::\n")
            entry.chmod(0o644)
            self._passwords[account.address] = account.password
        return account

    def password_of(self, address: str) -> str | None:
        """The password of a test-bed user, or None for unknown addresses."""
        with self._lock:
            return self._passwords.get(address.lower())

    def is_user(self, address: str) -> bool:
        """True if `address` is a user of this Dovecot."""
        return self.password_of(address) is not None

    def ssl_context(self, ca_file: Path | None = None) -> ssl.SSLContext:
        """A verifying client context trusting `ca_file` (default: the bed's CA)."""
        return ssl.create_default_context(cafile=str(ca_file or self.ca_file))

    @contextlib.contextmanager
    def imap(self, account: Account, timeout: float = 10.0) -> Iterator[IMAPClient]:
        """An IMAPClient logged in as `account` on the plain port; logs out on exit."""
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=timeout)
        try:
            client.login(account.address, account.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()
            with contextlib.suppress(Exception):
                client.shutdown()

    def append(
        self,
        account: Account,
        folder: str,
        msg_bytes: bytes,
        flags: Iterable[str] = (),
        keywords: Iterable[str] = (),
    ) -> int:
        """APPEND a raw message and return its UID."""
        with self.imap(account) as client:
            response = client.append(folder, msg_bytes, flags=(*flags, *keywords))
        match = _APPENDUID.search(response)
        if match is None:
            raise DovecotError(f"no APPENDUID in {response!r}")
        return int(match.group(1))

    def set_keyword(self, account: Account, folder: str, uid: int, keyword: str) -> None:
        """Add an IMAP keyword (or flag) to a message."""
        with self.imap(account) as client:
            client.select_folder(folder)
            client.add_flags([uid], [keyword], silent=True)

    def fetch_all(self, account: Account, folder: str) -> list[bytes]:
        r"""Every message of `folder` as raw bytes, in UID order (without setting \Seen)."""
        with self.imap(account) as client:
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search("ALL"))
            if not uids:
                return []
            data = client.fetch(uids, ["BODY.PEEK[]"])
        return [bytes(data[uid][b"BODY[]"]) for uid in uids]

    def deliver(
        self, rcpt_address: str, msg_bytes: bytes, sender: str = "mailer@example.org"
    ) -> None:
        """Deliver a raw message to `rcpt_address` over LMTP, as an MTA would."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(sender, [rcpt_address], msg_bytes)
