"""The daemon's main loop: passes, timers, IDLE wake-ups, signals, reloads and the watchdog.

Every pass runs on the one `Worker` thread (worker.py); this loop only decides when.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from decliner import config as config_module
from decliner.auth.advice import SIGN_IN_AGAIN
from decliner.backoff import Backoff
from decliner.config import Config
from decliner.daemon.systemd import Notifier, watchdog_interval
from decliner.daemon.worker import Abandoned, Worker
from decliner.errors import (
    AuthFailure,
    DeclinerError,
    SecretError,
    SignInNeeded,
    UserError,
)
from decliner.mail.imap.idle import IdleWatcher
from decliner.service.execute import PassReport
from decliner.service.session import DaemonSession

log = logging.getLogger(__name__)
# Servers already coalesce a burst of changes into one IDLE notice (Dovecot waits 500 ms:
# NOTIFY_DELAY_MSECS in its mailbox-watch.c), so ours is only a yield, not a second wait.
SETTLE_SECONDS = 0.005
MAX_SAME_CRASHES = 5  # then exit 1 and let systemd restart us (its limit: 5 starts in 10 min)


class Daemon:
    """The main loop; `run()` returns the exit status."""

    def __init__(self, config: Config, notifier: Notifier | None = None) -> None:
        self.config = config
        self.notifier = notifier or Notifier()
        self.watchdog = watchdog_interval()
        self.stopping = asyncio.Event()
        self.wake = asyncio.Event()
        self.last_progress = time.monotonic()
        self.last_sync: datetime | None = None
        self.worker = Worker()
        self.session = DaemonSession(config)
        self.idle: IdleWatcher | None = None
        # Whether the IDLE folder may have changed since the last pass (True until a full pass
        # has read it): a timer pass skips a folder that IDLE watches and that reported nothing.
        self.idle_news = True
        self.loop: asyncio.AbstractEventLoop | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self._config_mtime = self._mtime()
        self.signed_out = False  # an OAuth2 provider refused the stored sign-in

    # -- lifecycle -------------------------------------------------------------

    async def main(self) -> int:
        """Run until SIGTERM/SIGINT; the exit status."""
        self.loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(signum, self.stopping.set)
        self.loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        try:
            await self.worker.run(self.session.open)
        except DeclinerError:
            self.worker.close()
            raise
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.start()
        tasks = [asyncio.ensure_future(self._feed_watchdog())]
        self.exit_status = 0
        try:
            await self._loop()
        finally:
            self.notifier.stopping()
            log.info("stopping")
            for task in tasks:
                task.cancel()
            self.scheduler.shutdown(wait=False)
            if self.idle is not None:
                await asyncio.to_thread(self.idle.stop)
            with contextlib.suppress(TimeoutError):  # a hung pass: the OS frees the lock and db
                await asyncio.wait_for(self.worker.run(self.session.close), 1.0)
            self.worker.close()
        return self.exit_status

    async def _loop(self) -> None:
        backoff = Backoff()
        ready = False
        crashes: list[str] = []  # the kinds of the unexpected failures in a row
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                if not ready:
                    await self.worker.run_or_abandon(self.session.connect, self.stopping)
                    ready = True
                    self._progress()
                    self.notifier.ready("logged in; reading new mail")
                    log.info("logged in; watching for invitations")
                    self._start_idle()
                self._reload_cancel_rules()
                skip = self._quiet_idle_folder()
                report = await self.worker.run_or_abandon(
                    partial(self.session.run_pass, skip), self.stopping
                )
            except Abandoned:
                log.warning(
                    "a pass was still running at stop; its outbox state is saved step by step"
                )
                return
            except SignInNeeded as exc:
                await self._signed_out(exc, backoff.next())
                continue
            except (AuthFailure, SecretError, UserError) as exc:
                # A refused login or a broken secret will not mend itself by retrying.
                log.error("%s; stopping (fix the config, then restart)", exc)  # noqa: TRY400 -- an expected failure: one line, no traceback
                self.exit_status = 1
                return
            except DeclinerError as exc:
                self.idle_news = True  # the next pass reads every folder
                delay = backoff.next()
                if not getattr(exc, "timed_out", False):
                    self._progress()  # the server answered, with an error: the loop is alive
                self.notifier.status(f"reconnecting in {delay:.0f}s: {exc}")
                log.warning("%s; retrying in %.0fs", exc, delay)
                await self._sleep(delay)
                continue
            except Exception as exc:  # a bug in one pass must not stop the mail loop at once
                self.idle_news = True
                crashes = [*crashes, type(exc).__name__][-MAX_SAME_CRASHES:]
                if len(crashes) == MAX_SAME_CRASHES and len(set(crashes)) == 1:
                    log.critical(
                        "a pass failed %d times in a row (%s); exiting so the service restarts",
                        MAX_SAME_CRASHES,
                        crashes[0],
                        exc_info=exc,
                    )
                    self.exit_status = 1
                    return
                delay = backoff.next()
                log.exception("a pass failed unexpectedly; retrying in %.0fs", delay)
                self.notifier.status(f"retrying in {delay:.0f}s after an internal error")
                await self._sleep(delay)
                continue
            crashes = []
            backoff.reset()
            await self._pass_done(report)
            await self._sleep(self._poll_seconds())

    async def _pass_done(self, report: PassReport) -> None:
        """A pass went through: say so, and wake for the next due message."""
        if self.signed_out:
            log.info("signed in; carrying on")
            self.signed_out = False
        self._progress()
        self.last_sync = datetime.now(UTC)
        self.notifier.status(await self._status(report))
        await self._reschedule()

    async def _signed_out(self, exc: SignInNeeded, seconds: float) -> None:
        """The user must sign in again (SPEC 17): say so once in the log and in STATUS,
        keep everything, and wait up to `seconds` for `decliner login` to store new tokens
        (looked at every second), a stop or a wake-up; alive meanwhile, so the watchdog
        is fed and systemd does not restart a daemon that only waits for its user."""
        if not self.signed_out:
            log.error("%s", exc)
        self.signed_out = True
        # READY too: signed out at start, systemd must not time the start out and restart a
        # daemon that can only wait for its user.
        self.notifier.ready(str(exc))
        from decliner.auth import providers, token_file

        files = [token_file(self.config, n).path for n in providers.names(self.config)]
        before = [_stamp(path) for path in files]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.stopping.is_set():
            self._progress()
            await self._sleep(min(1.0, deadline - time.monotonic()))
            if self.wake.is_set() or [_stamp(path) for path in files] != before:
                return

    def _poll_seconds(self) -> float:
        return self.config.mailbox.poll_interval.total_seconds()

    async def _sleep(self, seconds: float) -> None:
        """Wait for `seconds`, a wake-up (IDLE, a due message) or a stop, whichever comes first."""
        waits = [
            asyncio.ensure_future(self.stopping.wait()),
            asyncio.ensure_future(self.wake.wait()),
        ]
        _done, pending = await asyncio.wait(
            waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if self.wake.is_set() and not self.stopping.is_set():
            # Notices arriving together (EXISTS then FETCH) settle into one pass; short,
            # since a flag set by the user is waiting on it.
            await asyncio.sleep(SETTLE_SECONDS)

    # -- wake-ups --------------------------------------------------------------

    def _start_idle(self) -> None:
        imap_cfg = self.config.imap
        if imap_cfg is None or not imap_cfg.idle or self.idle is not None:
            return
        heartbeat = min(imap_cfg.poll_interval.total_seconds(), 24 * 60.0)
        if self.watchdog:
            heartbeat = min(heartbeat, max(self.watchdog / 4, 0.5))
        self.idle = IdleWatcher(
            self.config,
            imap_cfg.folders[0],
            heartbeat=heartbeat,
            on_change=lambda: self._threadsafe(self._idle_changed),
            on_alive=lambda: self._threadsafe(self._progress),
            on_error=lambda _exc, timed_out: (
                None if timed_out else self._threadsafe(self._progress)
            ),
        )
        self.idle.start()

    def _idle_changed(self) -> None:
        self.idle_news = True
        self.wake.set()

    def _quiet_idle_folder(self) -> tuple[str, ...]:
        """The folders this pass may skip: the IDLE folder, while IDLE watches it and has
        reported nothing since the last pass read it (SPEC 12: poll_interval is for the
        other folders). Reading the flag clears it: a report during the pass wakes the next."""
        news, self.idle_news = self.idle_news, False
        if news or self.idle is None or not self.idle.watching:
            return ()
        return (self.idle.folder,)

    def _threadsafe(self, call: Callable[[], None]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(call)

    async def _reschedule(self) -> None:
        """One date job per waiting outbox row (job id = row id); the outbox stays the record."""
        assert self.scheduler is not None  # noqa: S101 -- started in main()
        due = await self.worker.run(self.session.due_times)
        wanted = {str(row_id): when for row_id, when in due.items()}
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        for job_id, when in wanted.items():
            self.scheduler.add_job(
                self.wake.set,
                trigger=DateTrigger(run_date=when, timezone=UTC),
                id=job_id,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )

    # -- health ------------------------------------------------------------------

    def _progress(self) -> None:
        self.last_progress = time.monotonic()

    async def _feed_watchdog(self) -> None:
        if not self.watchdog:
            return
        while True:
            await asyncio.sleep(self.watchdog / 2)
            if time.monotonic() - self.last_progress < self.watchdog:
                self.notifier.watchdog()

    async def _status(self, report: PassReport) -> str:
        invites, next_due = await self.worker.run(self.session.counts)
        zone = self.config.account.zone
        parts = []
        if self.config.imap and self.config.imap.idle:
            parts.append(f"idle on {self.config.imap.folders[0]}")
        parts.append(f"{invites} upcoming invite{'s' if invites != 1 else ''}")
        if next_due:
            parts.append(f"next message due {next_due.astimezone(zone):%Y-%m-%d %H:%M}")
        if self.last_sync:
            parts.append(f"last sync {self.last_sync.astimezone(zone):%H:%M:%S}")
        if report.sent:
            parts.append(f"sent {len(report.sent)} just now")
        if report.calendar_problem:
            parts.append(f"calendar trouble: {report.calendar_problem}")
        if any(SIGN_IN_AGAIN in text for text in report.retrying):
            parts.insert(0, SIGN_IN_AGAIN)  # a send waits for the user to sign in (SPEC 17)
        return ", ".join(parts)

    # -- configuration ---------------------------------------------------------

    def _mtime(self) -> float:
        try:
            return self.config.source.stat().st_mtime
        except OSError:
            return 0.0

    def _reload_cancel_rules(self) -> None:
        """`[[cancel]]` edits take effect at the next pass, without a SIGHUP."""
        mtime = self._mtime()
        if mtime == self._config_mtime:
            return
        self._config_mtime = mtime
        try:
            fresh = config_module.load(self.config.source)
        except DeclinerError as exc:
            log.warning("config changed but is invalid, keeping the old one: %s", exc)
            return
        if fresh.cancel != self.config.cancel:
            log.info("config: [[cancel]] entries reloaded (%d)", len(fresh.cancel))
            self._use(self.config.model_copy(update={"cancel": fresh.cancel}))

    async def reload(self) -> None:
        """SIGHUP: read the config again; a broken one is reported and the old one kept."""
        self.notifier.reloading()
        try:
            fresh = config_module.load(self.config.source)
        except DeclinerError as exc:
            log.error("reload failed, keeping the running config: %s", exc)  # noqa: TRY400 -- an expected failure: one line, no traceback
        else:
            log.info("config reloaded from %s", fresh.source)
            self._use(fresh)
            await self.worker.run(self.session.disconnect)
            if self.idle is not None:
                await asyncio.to_thread(self.idle.stop)
                self.idle = None
                self._start_idle()
            self.wake.set()
        self.notifier.ready("configuration reloaded")

    def _use(self, config: Config) -> None:
        self.config = config
        self.session.config = config
        self.session.calendar = None  # the next pass connects with the new [calendar]


def _stamp(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def run(config: Config) -> int:
    """Run the daemon in this process until stopped; the exit status."""
    return asyncio.run(Daemon(config).main())
