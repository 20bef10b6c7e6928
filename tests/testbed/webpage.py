"""The review page served in a thread for a test, and a plain HTTP client for it.

`http.client` rather than a browser where the test must set headers a browser would
not let it set (Host, Origin) or must see exactly what comes back (no redirects followed).
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from decliner.config import Config
from decliner.store import Store
from decliner.web import guard as guards
from decliner.web import server


@dataclass(frozen=True)
class Answer:
    """One HTTP response: status, headers (lower-case names), body text."""

    status: int
    headers: Mapping[str, str]
    body: str


@dataclass(frozen=True)
class Served:
    """A review page served on `port` (by this process or another), and how to ask it things."""

    port: int
    state_dir: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def secret(self) -> str:
        return (self.state_dir / guards.SECRET_FILE).read_text(encoding="ascii").strip()

    @property
    def cookie(self) -> str:
        """The Cookie header a signed-in browser sends."""
        return f"decliner_{self.port}={self.secret}"

    @property
    def csrf(self) -> str:
        return guards.load(self.state_dir, self.port).csrf_token

    def ticket(self) -> str:
        """A fresh one-time ticket, as `decliner web --open` issues it."""
        return guards.issue_ticket(self.state_dir)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Answer:
        sent = {"Host": self.host, **(headers or {})}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Content-Length"] = str(len(body.encode()))
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in sent.items():
                connection.putheader(name, value)
            connection.endheaders(body.encode() if body is not None else None)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> Answer:
        return self.request("GET", path, headers={"Cookie": self.cookie, **headers})


@contextmanager
def served(config: Config) -> Iterator[Served]:
    """The page for `config` on a free loopback port, served until the block ends."""
    page = server.start(config)
    thread = threading.Thread(target=page.serve_until_idle, args=(None,), daemon=True)
    thread.start()
    try:
        yield Served(page.port, server.state_dir(config))
    finally:
        page.stop()
        thread.join(timeout=30)


def db_dump(config: Config) -> str:
    """The whole state db as SQL text: equal before and after means nothing changed."""
    with Store.open_readonly(config.state_path()) as store:
        return "\n".join(store.connection.iterdump())
