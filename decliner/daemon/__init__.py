"""`decliner run`: the long-running daemon around the same pass as `run --once`.

An asyncio main loop owns the timers: IMAP IDLE (its own thread and connection)
and APScheduler date jobs for due outbox rows only *wake* it; every pass runs on
one worker thread that owns the state db and the command connection, so passes
never overlap. Connection errors reconnect with capped backoff (1 s to 5 min).
The systemd watchdog is fed only while IMAP round trips or passes complete, so
a hung connection gets the service restarted. SIGTERM finishes the pass in
flight (its outbox state is committed step by step either way) and exits 0;
SIGHUP reloads the config, keeping the old one if the new one is broken.
"""

from __future__ import annotations

from decliner.daemon.loop import Daemon, run

__all__ = ["Daemon", "run"]
