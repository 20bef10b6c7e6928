"""Serving the review page: on 127.0.0.1 (a free port by default), or on the socket
systemd hands over (``LISTEN_FDS``), stopping after a while without a request there, so
the page starts on the first visit and goes away when idle (deploy/decliner-web.socket).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from decliner.config import Config
from decliner.errors import RuntimeFailure, UserError
from decliner.web import guard as guards
from decliner.web.app import create_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SD_LISTEN_FDS_START = 3


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler, logging the path without its query (a ticket is a secret)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        log.debug("%s %s %s", self.command, path, code)
        del size


@dataclass
class Page:
    """A review page being served: its server, the port, and when it last had a request."""

    server: BaseWSGIServer
    port: int
    last_request: float

    @property
    def url(self) -> str:
        """The page's address, without any secret."""
        return f"http://{HOST}:{self.port}/"

    def login_url(self, ticket: str) -> str:
        """The one-time address that lets a browser in."""
        return self.login_url_for(self.port, ticket)

    @staticmethod
    def login_url_for(port: int, ticket: str) -> str:
        """The one-time address of the page on `port` (served by this or another process)."""
        return f"http://{HOST}:{port}/login?ticket={ticket}"

    def serve_until_idle(self, idle: float | None) -> None:
        """Serve until stopped, or once `idle` seconds pass without a request."""
        if idle is not None:
            threading.Thread(target=self._stop_when_idle, args=(idle,), daemon=True).start()
        self.server.serve_forever(poll_interval=0.5)

    def stop(self) -> None:
        """Stop serving (from another thread) and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    def _stop_when_idle(self, idle: float) -> None:
        while (left := self.last_request + idle - time.monotonic()) > 0:
            time.sleep(min(left, 5.0))
        log.info("no request for %.0f seconds: the review page stops", idle)
        self.server.shutdown()


def inherited_socket(env: Mapping[str, str] | None = None) -> int | None:
    """The listening socket systemd passed (sd_listen_fds), if it passed one to us."""
    env = os.environ if env is None else env
    if env.get("LISTEN_PID") != str(os.getpid()) or not env.get("LISTEN_FDS", "").isdigit():
        return None
    if int(env["LISTEN_FDS"]) < 1:
        return None
    return SD_LISTEN_FDS_START


def start(
    config: Config,
    *,
    port: int = 0,
    fd: int | None = None,
    now: Callable[[], datetime] | None = None,
) -> Page:
    """Bind (or adopt systemd's socket) and build the app; `serve_until_idle` then serves."""
    if fd is None:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            probe.close()
            raise RuntimeFailure(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
        probe.listen(64)
        fd = probe.detach()
    listening = socket.socket(fileno=fd)
    address = listening.getsockname()
    listening.detach()
    if address[0] != HOST:
        raise UserError(f"the review page listens on {HOST} only, not on {address[0]}")
    bound_port = int(address[1])
    guard = guards.load(state_dir(config), bound_port)
    app = create_app(config, guard) if now is None else create_app(config, guard, now=now)
    page: Page
    server = make_server(
        HOST,
        bound_port,
        _stamped(app.wsgi_app, lambda: setattr(page, "last_request", time.monotonic())),
        threaded=True,
        request_handler=_QuietHandler,
        fd=fd,
    )
    os.close(fd)  # the server holds its own duplicate
    page = Page(server, bound_port, time.monotonic())
    return page


def _stamped(app: WSGIApplication, stamp: Callable[[], None]) -> WSGIApplication:
    """`app`, noting the time of every request (for the idle stop)."""

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        stamp()
        return app(environ, start_response)

    return wrapped


def state_dir(config: Config) -> Path:
    """Where the page's secret and tickets are kept: beside the state db."""
    return config.state_path().parent


def running_page(port: int) -> bool:
    """Whether a decliner review page already answers on 127.0.0.1:`port`."""
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with direct.open(f"http://{HOST}:{port}/login", timeout=10) as answer:
            headers = answer.headers
    except urllib.error.HTTPError as refused:
        headers = refused.headers
    except OSError:
        return False
    return str(headers.get("X-Decliner", "")) == "review page"
