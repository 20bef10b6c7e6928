"""A private, throwaway Radicale 3 (CalDAV) run as a subprocess on a loopback port.

The helpers that put events and read them back speak plain HTTP (http.client), not
the caldav library decliner uses, so a bug there cannot hide itself in its own tests.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import re
import secrets
import ssl
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.sax.saxutils import escape

from tests.testbed import wait
from tests.testbed.certs import make_certs
from tests.testbed.dovecot import Account
from tests.testbed.net import free_port

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30.0


class RadicaleError(RuntimeError):
    """The private Radicale did not start, or answered a test-bed request unexpectedly."""


@dataclass(frozen=True)
class Response:
    """One HTTP answer, read whole; header names are lower-cased."""

    status: int
    headers: dict[str, str]
    text: str


def _config(root: Path, port: int, htpasswd: Path, tls_files: tuple[Path, Path] | None) -> str:
    tls = (
        f"ssl = True\ncertificate = {tls_files[0]}\nkey = {tls_files[1]}\n"
        if tls_files
        else "ssl = False\n"
    )
    # delay = 0 and delay_on_error = 0: Radicale otherwise sleeps up to 1.5 s on every
    # 401/403/5xx, a defence against guessing that only slows the tests.
    # htpasswd_cache = False: the users file is read per request, so new accounts work at once.
    return f"""\
[server]
hosts = {HOST}:{port}
max_connections = 20
delay_on_error = 0
{tls}
[auth]
type = htpasswd
htpasswd_filename = {htpasswd}
htpasswd_encryption = plain
htpasswd_cache = False
delay = 0

[rights]
type = from_file
file = {root / "rights"}

[storage]
filesystem_folder = {root / "collections"}

[web]
type = none

[logging]
level = info
mask_passwords = True
"""


# As owner_only; `make_read_only` puts a rule for one calendar in front.
RIGHTS = """\
[principal]
user: .+
collection: {user}
permissions: RW

[calendars]
user: .+
collection: {user}/[^/]+(/.*)?
permissions: rw

[root]
user: .+
collection:
permissions: R
"""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "calendar"


def _mkcalendar_body(name: str, components: tuple[str, ...]) -> str:
    comps = "".join(f'<C:comp name="{escape(c)}"/>' for c in components)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:set><D:prop><D:displayname>{escape(name)}</D:displayname>"
        f"<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
        "</D:prop></D:set></C:mkcalendar>"
    )


class Radicale:
    """A private Radicale under `root`, plain HTTP or TLS; the port is kept across restarts."""

    host = HOST

    def __init__(self, root: Path, *, tls: bool = False) -> None:
        self.root = root
        self.tls = tls
        self.port = free_port()
        certs = make_certs(root / "certs")
        self.ca_file = certs.ca_file
        self.other_ca_file = certs.other_ca_file
        self.htpasswd_file = root / "users"
        self.config_file = root / "config"
        self.log_path = root / "radicale.log"
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._passwords: dict[str, str] = {}
        self._popen: subprocess.Popen[bytes] | None = None
        self._write_users()
        (root / "rights").write_text(RIGHTS)
        self.config_file.write_text(
            _config(
                root,
                self.port,
                self.htpasswd_file,
                (certs.cert_file, certs.key_file) if tls else None,
            )
        )
        self._probe = self.new_account("probe")

    @property
    def url(self) -> str:
        """The server root, e.g. http://127.0.0.1:PORT/ (https:// in TLS mode)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/"

    def principal_url(self, account: Account) -> str:
        """The account's principal, which is also its calendar home on Radicale."""
        return f"{self.url}{quote(account.username, safe='')}/"

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, ceiling: float = wait.CEILING) -> None:
        """Start the server and wait until an authenticated PROPFIND is answered (a busy
        machine may take a while; only a server that never answers reaches `ceiling`)."""
        if self.running:
            raise RadicaleError("already running")
        # Appended to, so a restart keeps the earlier run's log for diagnostics.
        with self.log_path.open("ab") as out:
            self._popen = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                cwd=self.root,
            )
        outcome: list[Response | Exception] = []

        def answered() -> bool:
            if not self.running:
                return True  # it exited: stop waiting, report below
            try:
                outcome[:] = [self.request(self._probe, "PROPFIND", self.url, depth="0")]
            except (OSError, http.client.HTTPException) as exc:  # not listening yet
                outcome[:] = [exc]
                return False
            return True

        ready = wait.poll(answered, ceiling)
        last = outcome[0] if outcome else None
        if ready and isinstance(last, Response) and last.status == 207:
            return
        code = self._popen.poll()
        self.stop()
        why = f"exited with {code}" if code is not None else f"last answer {last!r}"
        raise RadicaleError(f"Radicale did not become ready ({why}):\n{self.log_text()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server (SIGKILL after `timeout`) and reap it; storage is kept."""
        popen, self._popen = self._popen, None
        if popen is None:
            return
        popen.terminate()
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(wait.CEILING)

    def stop_serving(self) -> None:
        """Take the server down (connections refused) until `start_again`."""
        if not self.running:
            raise RadicaleError("not running")
        self.stop()

    def start_again(self) -> None:
        """Serve again on the same port, with the same users and storage."""
        self.start()

    def make_read_only(self, calendar_url: str) -> None:
        """From now on nobody may write to this calendar (like one shared with read rights
        only): a PUT there gets 403 Forbidden. Restarts the server, which reads rights once."""
        path = unquote(urlsplit(calendar_url).path).strip("/")
        rule = (
            f"[read-only {path}]\nuser: .+\ncollection: {re.escape(path)}(/.*)?\npermissions: r\n\n"
        )
        rights = self.root / "rights"
        rights.write_text(rule + rights.read_text())
        self.stop_serving()
        self.start_again()

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._popen is not None and self._popen.poll() is None

    def pids(self) -> list[int]:
        """The server's pid while it runs (for leak checks)."""
        return [self._popen.pid] if self.running and self._popen is not None else []

    def log_text(self) -> str:
        """Everything the server logged so far, across restarts (for diagnostics)."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    # --- users -----------------------------------------------------------------------------

    def _write_users(self) -> None:
        # Written whole and renamed into place: Radicale reads the file on every request
        # and must never see half of it.
        lines = "".join(f"{user}:{password}\n" for user, password in self._passwords.items())
        temp = self.htpasswd_file.with_suffix(".tmp")
        temp.write_text(lines)
        temp.chmod(0o600)
        temp.replace(self.htpasswd_file)

    def new_account(self, local_part_hint: str = "jane") -> Account:
        """Create a fresh user with no collections yet, usable at once."""
        with self._lock:
            address = f"{local_part_hint.lower()}-{next(self._counter)}@caldav.example.com"
            while address in self._passwords:  # taken by add_account
                address = f"{local_part_hint.lower()}-{next(self._counter)}@caldav.example.com"
            password = f"pw-{secrets.token_urlsafe(12)}-CANARY-{secrets.token_hex(4)}"
            self._passwords[address] = password
            self._write_users()
        return Account(address, password)

    def add_account(self, account: Account) -> Account:
        """Make an account of the test-bed Dovecot a user here too (same login and password)."""
        with self._lock:
            known = self._passwords.get(account.username)
            if known is not None and known != account.password:
                raise RadicaleError(f"{account.username} exists with another password")
            self._passwords[account.username] = account.password
            self._write_users()
        return account

    def password_of(self, username: str) -> str | None:
        """The password of a test-bed user, or None for unknown names."""
        with self._lock:
            return self._passwords.get(username)

    # --- HTTP ------------------------------------------------------------------------------

    def ssl_context(self, ca_file: Path | None = None) -> ssl.SSLContext:
        """A verifying client context trusting `ca_file` (default: the bed's CA)."""
        return ssl.create_default_context(cafile=str(ca_file or self.ca_file))

    def request(
        self,
        account: Account,
        method: str,
        url: str,
        body: str = "",
        *,
        content_type: str = "",
        depth: str = "",
        headers: dict[str, str] | None = None,
        ca_file: Path | None = None,
    ) -> Response:
        """One request with Basic auth as `account`; any status is returned, not raised."""
        parts = urlsplit(url)
        port = parts.port or self.port
        connection = (
            http.client.HTTPSConnection(
                parts.hostname or self.host,
                port,
                timeout=REQUEST_TIMEOUT,
                context=self.ssl_context(ca_file),
            )
            if parts.scheme == "https"
            else http.client.HTTPConnection(
                parts.hostname or self.host, port, timeout=REQUEST_TIMEOUT
            )
        )
        credentials = base64.b64encode(f"{account.username}:{account.password}".encode()).decode()
        sent = {"Authorization": f"Basic {credentials}", **(headers or {})}
        if content_type:
            sent["Content-Type"] = content_type
        if depth:
            sent["Depth"] = depth
        path = parts.path or "/"
        try:
            connection.request(method, path, body=body.encode(), headers=sent)
            answer = connection.getresponse()
            text = answer.read().decode("utf-8", "replace")
            received = {name.lower(): value for name, value in answer.getheaders()}
            return Response(answer.status, received, text)
        finally:
            connection.close()

    def _expect(self, response: Response, what: str, *statuses: int) -> Response:
        if response.status not in statuses:
            raise RadicaleError(f"{what}: HTTP {response.status}\n{response.text[:2000]}")
        return response

    def make_calendar(
        self, account: Account, name: str, components: tuple[str, ...] = ("VEVENT",)
    ) -> str:
        """MKCALENDAR a collection named `name` (its display name) holding `components`
        under the account's home; return its URL (ending in '/')."""
        url = f"{self.principal_url(account)}{_slug(name)}/"
        response = self.request(
            account,
            "MKCALENDAR",
            url,
            _mkcalendar_body(name, components),
            content_type="application/xml; charset=utf-8",
        )
        self._expect(response, f"MKCALENDAR {url}", 201)
        return url

    def put_event(self, account: Account, calendar_url: str, href_name: str, ics_text: str) -> None:
        """PUT an iCalendar object as `href_name` (e.g. 'interview.ics'), creating or replacing."""
        url = urljoin(calendar_url, href_name)
        response = self.request(
            account, "PUT", url, ics_text, content_type="text/calendar; charset=utf-8"
        )
        self._expect(response, f"PUT {url}", 201, 204)

    def get(self, account: Account, url: str) -> tuple[str, str]:
        """GET a resource: its ETag and its text."""
        response = self._expect(self.request(account, "GET", url), f"GET {url}", 200)
        return response.headers.get("etag", ""), response.text

    def delete(self, account: Account, url: str) -> None:
        """DELETE a resource or a collection."""
        self._expect(self.request(account, "DELETE", url), f"DELETE {url}", 200, 204)

    def exists(self, account: Account, url: str) -> bool:
        """True if GET finds the resource, False on 404."""
        response = self._expect(self.request(account, "GET", url), f"GET {url}", 200, 404)
        return response.status == 200
