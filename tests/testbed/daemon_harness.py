"""The real daemon (`decliner run`) as a subprocess, and a stand-in for systemd's notify socket.

Tests wait for what the daemon does, never for time: a notify message
(READY=1, a STATUS= after a finished pass), a line in its log, or mail
arriving at the servers. Both the log and the notify socket are read by a
thread as they come (a full pipe never blocks the daemon), and every wait
ends early, with the daemon's exit status, if the daemon exits first.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.testbed.wait import CEILING, poll


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; keeps what arrives, in order.

    Counts are taken as of the moment of asking: the listener first sends itself a
    mark and waits until it has read it, so every datagram the daemon sent before
    the call is counted (one socket's datagrams are read in the order sent).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)  # how often the reader looks at the stop flag
        self._messages: list[str] = []
        self._arrived = threading.Condition()
        self._marks = itertools.count()
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
            with self._arrived:
                self._messages.append(data.decode())
                self._arrived.notify_all()

    def mark(self) -> int:
        """Where messages sent from now on begin (an index for `count(..., since=)`)."""
        token = f"TEST_MARK={next(self._marks)}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            sender.sendto(token.encode(), str(self.path))
        with self._arrived:
            if not self._arrived.wait_for(lambda: token in self._messages, CEILING):
                raise AssertionError("the notify listener did not read its own mark")
            return self._messages.index(token) + 1

    def count(self, field: str, since: int = 0) -> int:
        """How many messages from index `since` on, up to now, carry the line `field`."""
        end = self.mark()
        with self._arrived:
            return sum(field in text.splitlines() for text in self._messages[since:end])

    def passes(self, since: int = 0) -> int:
        """Finished passes from index `since` on: the daemon's STATUS= after a pass says when
        it last synced."""
        end = self.mark()
        with self._arrived:
            return sum(
                line.startswith("STATUS=") and "last sync" in line
                for text in self._messages[since:end]
                for line in text.splitlines()
            )

    def status_with(self, part: str) -> bool:
        """Whether a STATUS= line so far contains `part`."""
        end = self.mark()
        with self._arrived:
            return any(
                line.startswith("STATUS=") and part in line
                for text in self._messages[:end]
                for line in text.splitlines()
            )

    def close(self) -> None:
        self._stop = True
        self.sock.close()


class Decliner:
    """`decliner run` as a subprocess; its log (stdout and stderr) is read as it comes."""

    def __init__(self, config_path: Path, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "decliner", "--config", str(config_path), "run"],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self._lock:
                self._lines.append(raw.decode(errors="replace"))

    @property
    def output(self) -> str:
        """The log so far (all of it once `exit_status` returned)."""
        with self._lock:
            return "".join(self._lines)

    def logged(self, *parts: str) -> int:
        """How many log lines so far contain all of `parts`."""
        with self._lock:
            return sum(all(p in line for p in parts) for line in self._lines)

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        """Wait until `condition` holds; fail, naming `what`, if it does not within the ceiling
        or the daemon exits first."""
        poll(lambda: condition() or self.process.poll() is not None)
        if not condition():
            status = self.process.poll()
            why = f"exited with {status}" if status is not None else f"not within {CEILING:.0f} s"
            raise AssertionError(f"no {what}: {why}")

    def exit_status(self) -> int:
        """Wait for the process to end and its log to be read; its exit status."""
        status = self.process.wait(CEILING)
        self._reader.join(CEILING)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status

    def stop(self) -> int:
        """SIGTERM; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.exit_status()


@contextmanager
def daemon(config_path: Path, env: dict[str, str] | None = None) -> Iterator[Decliner]:
    """The daemon for the block; killed if still running at the end, its log then printed
    (pytest shows it when the test fails)."""
    decliner = Decliner(config_path, env)
    try:
        yield decliner
    finally:
        if decliner.process.poll() is None:
            decliner.process.kill()
        decliner.exit_status()
        print(decliner.output)


@contextmanager
def running(
    path: Path, tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[Decliner, NotifyListener]]:
    """The daemon with a NOTIFY_SOCKET, past READY=1 and its first pass. Leaving the block
    SIGTERMs it: it must send STOPPING=1 and exit 0."""
    listener = NotifyListener(tmp_path / "notify.sock")
    try:
        with daemon(path, {"NOTIFY_SOCKET": str(listener.path), **(env or {})}) as decliner:
            decliner.wait(lambda: listener.count("READY=1") > 0, "READY=1")
            decliner.wait(lambda: listener.passes() > 0, "first pass")
            yield decliner, listener
            assert decliner.stop() == 0
            assert listener.count("STOPPING=1")
    finally:
        listener.close()
