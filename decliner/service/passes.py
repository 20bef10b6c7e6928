"""Reading the mailbox and acting on it: a scan before a listing, or one full pass."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from decliner.config import Config
from decliner.config.secret_sources import Credential
from decliner.errors import DeclinerError, RuntimeFailure
from decliner.mail.ingest import Progress, ScanReport
from decliner.service.report import PassReport
from decliner.service.runner import Runner
from decliner.service.wiring import Store, mail_source, open_calendar, transport, utcnow


def scan(config: Config, store: Store, progress: Progress | None = None) -> ScanReport:
    """One incremental pass over the mail folders."""
    with mail_source(config, store, progress=progress) as source:
        return source.scan()


def refresh(config: Config, store: Store, progress: Progress | None = None) -> str | None:
    """Read new mail (and the calendar's invitations) before a listing; if either cannot be
    read, the warning to show instead of failing: the listing is then what the state db knew
    at the last sync."""
    try:
        scan(config, store, progress)
    except RuntimeFailure as exc:
        synced = store.last_sync()
        when = f"at {synced.astimezone(config.account.zone):%Y-%m-%d %H:%M}" if synced else ""
        return f"showing what was known {when or '(never synced)'}: {exc}"
    calendar = open_calendar(config, store)
    if calendar is None:
        return None
    try:
        calendar.read()
    except DeclinerError as exc:
        return f"showing what was known of your calendar: {exc}"
    finally:
        calendar.close()
    return None


def run_once(
    config: Config,
    store: Store,
    *,
    now: Callable[[], datetime] = utcnow,
    credential: Credential | None = None,
    digest: str = "",
) -> PassReport:
    """One full pass: scan, flags, plan, send what is due (one attempt each); IMAP logs in
    with `credential` when given. With the validated config's `digest`, a pass that leaves
    nothing to do seals the db for the next quiet `run --once` (`quiet_pass.py`)."""
    calendar = open_calendar(config, store, now=now)
    try:
        with mail_source(config, store, now=now, credential=credential) as source:
            runner = Runner(config, store, now=now)
            return runner.run_once(source, transport(config), calendar, seal=digest)
    finally:
        if calendar is not None:
            calendar.close()
