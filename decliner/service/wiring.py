"""How the commands reach the world: the clock, the state db, the mailbox, the way out and
the user's own calendar, each opened from the config."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from decliner.config import Config
from decliner.config.secret_sources import Credential
from decliner.mail import imap
from decliner.mail.imap.scan import Scanner
from decliner.mail.ingest import Progress
from decliner.mail.ports import MailSource, SendResult, Transport
from decliner.store import Store as Store  # noqa: PLC0414 -- re-exported: the handle the commands take

if TYPE_CHECKING:
    from decliner.calendar.client import CalDav
    from decliner.service.own_calendar import OwnCalendar


def utcnow() -> datetime:
    """The current instant; the one place the shell reads the clock."""
    return datetime.now(UTC)


def open_store(config: Config, *, readonly: bool = False) -> Store:
    """The account's state db, created on first use; `readonly` for commands that only
    look (SPEC 16), which then cannot write even by mistake."""
    if readonly:
        return Store.open_readonly(config.state_path())
    return Store.open(config.state_path())


@contextmanager
def mail_source(
    config: Config,
    store: Store,
    *,
    now: Callable[[], datetime] = utcnow,
    progress: Progress | None = None,
    credential: Credential | None = None,
) -> Iterator[MailSource]:
    """The configured mailbox, connected (IMAP, with `credential` if given) or checked
    (Maildir) for the block."""
    if config.maildir is not None:
        from decliner.mail.maildir import MaildirSource

        source = MaildirSource(config, store, now=now, progress=progress)
        source.check_root()
        yield source
        return
    with imap.session(config, credential) as client:
        yield imap.ImapSource(config, client, Scanner(config, store, now=now, progress=progress))


def transport(config: Config) -> Transport:
    """The configured way out: SMTP, or a local Maildir for dry runs."""
    if config.smtp.transport == "maildir":
        from decliner.mail.maildir.transport import MaildirTransport

        return MaildirTransport(config.resolve_path(config.smtp.maildir_path))
    return _Smtp(config)


class _Smtp:
    """SMTP as a `Transport`, its client (aiosmtplib and asyncio) imported on the first
    send: most passes send nothing."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> SendResult:
        """One attempt over SMTP."""
        from decliner.mail.smtp import SmtpTransport

        return SmtpTransport(self.config).send(raw, sender, recipients)


def open_calendar(
    config: Config, store: Store, *, now: Callable[[], datetime] = utcnow
) -> OwnCalendar | None:
    """The user's own calendar from `[calendar]`, if configured (it connects on first use;
    the CalDAV client is imported only then, so a mail-only pass never loads it)."""
    if config.calendar is None:
        return None
    from decliner.service.own_calendar import OwnCalendar

    return OwnCalendar(config, store, now=now)


def calendar_account(config: Config) -> CalDav:
    """The `[calendar]` account, not yet connected (for `check`)."""
    from decliner.service.own_calendar import calendar_account as account

    return account(config)
