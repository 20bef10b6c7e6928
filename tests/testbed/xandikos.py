"""A private Xandikos (a second CalDAV implementation, git-backed) on a loopback port.

Xandikos does no authentication of its own on plain HTTP (it expects a reverse
proxy to), so it serves one user, whose calendar `--defaults` creates at
/user/calendars/calendar/. Events are put and read with http.client, not with
the caldav library decliner uses.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
from pathlib import Path

from tests.testbed import wait
from tests.testbed.net import free_port

HOST = "127.0.0.1"


class XandikosError(RuntimeError):
    """Xandikos did not start, or refused a test-bed request."""


class Xandikos:
    """A Xandikos server under `root` for one test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/"
        self.calendar_url = f"{self.url}user/calendars/calendar/"
        self.log_path = root / "xandikos.log"
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until the calendar answers a PROPFIND."""
        self.root.mkdir(parents=True, exist_ok=True)
        script = "import sys; from xandikos.__main__ import cli_main; sys.exit(cli_main())"
        with self.log_path.open("ab") as out:
            self._popen = subprocess.Popen(
                [
                    *(sys.executable, "-c", script, "serve", "-d", str(self.root / "dav")),
                    *("--defaults", "-l", HOST, "-p", str(self.port), "--no-detect-systemd"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )

        def answered() -> bool:
            if self._popen is None or self._popen.poll() is not None:
                return True
            try:
                return self.request("PROPFIND", self.calendar_url, depth="0")[0] == 207
            except OSError:
                return False

        wait.poll(answered)
        if self._popen.poll() is not None or self.request("PROPFIND", self.calendar_url)[0] >= 400:
            log = self.log_path.read_text(errors="replace")
            self.stop()
            raise XandikosError(f"Xandikos did not become ready:\n{log}")

    def stop(self) -> None:
        """Terminate and reap it."""
        popen, self._popen = self._popen, None
        if popen is not None:
            popen.terminate()
            try:
                popen.wait(10)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()

    def request(
        self, method: str, url: str, body: str = "", *, depth: str = "", content_type: str = ""
    ) -> tuple[int, str]:
        """One request; the status and the body."""
        headers = {"Depth": depth} if depth else {}
        if content_type:
            headers["Content-Type"] = content_type
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request(method, url.removeprefix(self.url[:-1]), body.encode(), headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def put(self, name: str, ics: str) -> str:
        """Store an event in the calendar; its URL."""
        url = self.calendar_url + name
        status, text = self.request("PUT", url, ics, content_type="text/calendar")
        if status not in (201, 204):
            raise XandikosError(f"PUT {url}: {status} {text[:500]}")
        return url

    def get(self, url: str) -> str:
        """An event's text."""
        status, text = self.request("GET", url)
        if status != 200:
            raise XandikosError(f"GET {url}: {status}")
        return text
