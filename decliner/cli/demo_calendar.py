"""The demo's own calendar: a local Radicale CalDAV server in the sandbox, when installed.

Radicale is not one of decliner's dependencies (it is a test tool); with it
installed (`pip install radicale`), the demo shows the user's copy of the
interview being declined over CalDAV, through the real `[calendar]` code. The
server listens on a free loopback port, keeps its data in the sandbox, and is
stopped when the demo ends.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

USER, PASSWORD = "jane.doe@example.com", "demo-calendar-password"
START_TIMEOUT = 30.0


def available() -> bool:
    """Whether Radicale can be started here."""
    return importlib.util.find_spec("radicale") is not None


class LocalCalendar:
    """A Radicale server for the demo, holding one calendar "Personal"."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.calendar_url = f"{self.url}{USER}/personal/"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and create the calendar; raises OSError if it does not come up."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "users").write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
        config = self.directory / "config"
        config.write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {self.directory / 'users'}\n"
            "htpasswd_encryption = plain\ndelay = 0\n"
            f"[storage]\nfilesystem_folder = {self.directory / 'collections'}\n"
            "[web]\ntype = none\n[logging]\nlevel = warning\n",
            encoding="utf-8",
        )
        log = (self.directory / "radicale.log").open("ab")
        with log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self._request("PROPFIND", self.url, headers={"Depth": "0"})
                break
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.stop()
                    raise
                time.sleep(0.1)
        body = (
            '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:'
            'caldav"><D:set><D:prop><D:displayname>Personal</D:displayname></D:prop></D:set>'
            "</C:mkcalendar>"
        )
        self._request("MKCALENDAR", self.calendar_url, body)

    def put(self, name: str, ics: str) -> None:
        """Store an event, as the user's provider did when the invitation arrived."""
        self._request("PUT", self.calendar_url + name, ics, {"Content-Type": "text/calendar"})

    def get(self, name: str) -> str:
        """An event's text as the server now has it."""
        return self._request("GET", self.calendar_url + name)

    def stop(self) -> None:
        """Stop the server (its data stays in the sandbox)."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            if process.poll() is None:
                process.kill()
                process.wait()

    def _request(
        self, method: str, url: str, body: str = "", headers: dict[str, str] | None = None
    ) -> str:
        login = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            path = url.removeprefix(self.url.rstrip("/"))
            connection.request(
                method, path, body.encode(), {"Authorization": f"Basic {login}", **(headers or {})}
            )
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        if response.status >= 400:
            raise OSError(f"{method} {url}: HTTP {response.status}")
        return text

    def config_section(self) -> str:
        """The `[calendar]` section the sandbox config gets."""
        return (
            "\n# Your own calendar: a local Radicale CalDAV server the demo started.\n"
            f'[calendar]\nurl = "{self.url}"\npassword = "{PASSWORD}"\n'
        )
