"""sd_notify, hand-written: readiness, status, watchdog and reload/stop notices to systemd.

The protocol is one datagram of ``KEY=VALUE`` lines to the AF_UNIX socket named by
``$NOTIFY_SOCKET`` (a path, or an abstract name written with a leading ``@``). It is a
few lines of code, and no Python library for it is well kept (``sdnotify`` and
``systemd-python``'s ``daemon.notify`` are unmaintained or need libsystemd headers), so
it lives here. Without ``$NOTIFY_SOCKET`` (not under systemd, or not ``Type=notify``)
every call is a no-op. A failed send is logged at debug and never raised: a lost notice
must not take down the mail loop, and the watchdog catches a daemon that stays silent.

``STATUS=`` text is visible to every local user (``systemctl status``): it passes through
`decliner.logs.scrub`, so a registered secret cannot leak through it either.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

from decliner import logs

__all__ = ["Notifier", "watchdog_interval"]

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to the socket systemd named, or does nothing."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        name = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if name.startswith("@"):
            self.address = "\0" + name[1:]
        elif name.startswith("/"):
            self.address = name
        elif name:
            log.debug("NOTIFY_SOCKET %r is not a path or abstract socket: ignored", name)

    @property
    def enabled(self) -> bool:
        """Whether messages go anywhere."""
        return self.address is not None

    def ready(self, status: str = "") -> None:
        """Startup (or a reload) is finished: READY=1, with an optional STATUS= line."""
        self._send("READY=1", *([_status(status)] if status else []))

    def status(self, text: str) -> None:
        """The one-line state shown by ``systemctl status``."""
        self._send(_status(text))

    def watchdog(self) -> None:
        """The main loop made progress (WATCHDOG=1)."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """Shutdown has begun (STOPPING=1)."""
        self._send("STOPPING=1")

    def reloading(self) -> None:
        """A reload has begun; send `ready` when it is done.

        MONOTONIC_USEC is what systemd >= 253 requires with ``Type=notify-reload``; older
        versions ignore the field.
        """
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def _send(self, *fields: str) -> bool:
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(fields).encode("utf-8", "replace"), self.address)
        except OSError as exc:
            log.debug("sd_notify %s failed: %s", fields[0].partition("=")[0], exc)
            return False
        return True


def _status(text: str) -> str:
    # A newline would start a new field: a folder name could otherwise say READY=1.
    return "STATUS=" + " ".join(logs.scrub(text).split())


def watchdog_interval(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds of systemd's watchdog timeout (WatchdogSec=), or None when it is off.

    The daemon should ping (`Notifier.watchdog`) every half of this. None also when
    ``$WATCHDOG_PID`` names another process: the variable was inherited, not meant for us.
    """
    env = os.environ if env is None else env
    me = os.getpid() if pid is None else pid
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
        owner = int(env.get("WATCHDOG_PID") or me)
    except ValueError:
        return None
    if usec <= 0 or owner != me:
        return None
    return usec / 1_000_000
