"""IMAP IDLE on one folder, in its own thread, on its own connection (RFC 2177).

The watcher wakes the daemon when the server reports a change (new mail, a
flag set, an expunge). Every `heartbeat` it ends IDLE and starts it again: a
round trip that proves the connection alive (and so feeds the watchdog) and
keeps IDLE far inside the 29-minute limit. A dropped or silent connection is
reported and retried with the same capped backoff as the daemon's passes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient

from decliner.backoff import Backoff
from decliner.config import Config
from decliner.errors import ConnectionFailure, DeclinerError, SignInNeeded
from decliner.mail import imap

log = logging.getLogger(__name__)

MAX_IDLE_SECONDS = 5 * 60  # well inside RFC 2177's 29 minutes, and finds dead links sooner


class IdleWatcher:
    """Keeps one IDLE connection on `folder`; calls `on_change` and `on_alive` from its thread."""

    def __init__(
        self,
        config: Config,
        folder: str,
        *,
        heartbeat: float,
        on_change: Callable[[], None],
        on_alive: Callable[[], None],
        on_error: Callable[[DeclinerError, bool], None],
    ) -> None:
        self.config = config
        self.folder = folder
        self.heartbeat = min(heartbeat, MAX_IDLE_SECONDS)
        self.on_change = on_change
        self.on_alive = on_alive
        self.on_error = on_error
        self._stop = threading.Event()
        self._client: IMAPClient | None = None
        self.watching = False  # in IDLE on the folder now: a change would be reported
        self._thread = threading.Thread(target=self._run, name=f"idle {folder}", daemon=True)

    def start(self) -> None:
        """Begin watching in the background."""
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop watching and close the connection; waits up to `timeout` seconds."""
        self._stop.set()
        client = self._client
        if client is not None:
            try:
                client.shutdown()  # unblocks a read in progress
            except OSError:
                log.debug("IDLE connection was already closed")
        self._thread.join(timeout)

    def _run(self) -> None:
        backoff = Backoff()
        while not self._stop.is_set():
            try:
                self._watch()
                backoff.reset()
            except Exception as exc:  # noqa: BLE001 -- a dead watcher would stop IDLE silently
                if self._stop.is_set():
                    return  # stop() closed the connection under our read: not a failure
                failure = exc if isinstance(exc, DeclinerError) else _unexpected(exc)
                delay = backoff.next()
                self.on_error(failure, getattr(failure, "timed_out", False))
                # A sign-in to renew is said once, by the main loop (SPEC 17), not per retry here.
                level = logging.DEBUG if isinstance(failure, SignInNeeded) else logging.WARNING
                log.log(level, "IDLE on %s: %s; reconnecting in %.0fs", self.folder, failure, delay)
                self._stop.wait(delay)

    def _watch(self) -> None:
        server = imap.endpoint_of(self.config)
        client = imap.connect(self.config)
        self._client = client
        try:
            with imap.errors_named(server):
                if not client.has_capability("IDLE"):
                    log.info(
                        "the server has no IDLE; %s is polled like the other folders", self.folder
                    )
                    self._stop.set()
                    return
                client.select_folder(self.folder, readonly=True)
                self.watching = True
                self.on_alive()
                self.on_change()  # catch up on anything missed while disconnected
                while not self._stop.is_set():
                    client.idle()
                    started = time.monotonic()
                    changed = False
                    while time.monotonic() - started < self.heartbeat and not self._stop.is_set():
                        changed = self._check(client, min(1.0, self.heartbeat))
                        if changed:
                            break
                    client.idle_done()
                    self.on_alive()
                    if changed:
                        self.on_change()
        finally:
            self.watching = False
            self._client = None
            try:
                client.shutdown()
            except OSError:
                log.debug("IDLE connection already closed")

    def _check(self, client: IMAPClient, timeout: float) -> bool:
        """Wait up to `timeout` for IDLE news; True if the folder changed.

        imapclient's `idle_check` swallows end-of-file and returns nothing, so a
        closed connection looks like a quiet one, except that it returns at once.
        """
        started = time.monotonic()
        responses = client.idle_check(timeout=timeout)
        if any(_is_bye(r) for r in responses) or (
            not responses and time.monotonic() - started < timeout / 2
        ):
            raise ConnectionFailure("the server closed the connection")
        return any(_is_change(r) for r in responses)


def _unexpected(exc: Exception) -> ConnectionFailure:
    """A library error errors_named does not map (imaplib's ValueError on a closed file)."""
    return ConnectionFailure(f"the connection failed: {type(exc).__name__}: {exc}")


def _is_bye(response: object) -> bool:
    return isinstance(response, tuple) and bool(response) and response[0] == b"BYE"


def _is_change(response: object) -> bool:
    """EXISTS, EXPUNGE, FETCH (flags) and RECENT mean the folder changed."""
    if not isinstance(response, tuple) or len(response) < 2:
        return False
    kind = response[1]
    return isinstance(kind, bytes) and kind.upper() in {b"EXISTS", b"EXPUNGE", b"FETCH", b"RECENT"}
