"""The world `decliner demo` runs in: a throw-away directory holding a Maildir++ tree
(INBOX with invitations from three kinds of scheduler and one plain mail, Decline, Sent),
a config that reads it as a `[maildir]` source and "sends" with the maildir transport into
``outbox/`` (what the recruiters receive), the state db, and, when Radicale is installed,
a local CalDAV server holding the user's own copy of one interview."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decliner.cli import demo_calendar, demo_mail
from decliner.cli.demo_calendar import LocalCalendar
from decliner.errors import RuntimeFailure, UserError

REASON = "I have accepted another offer"


@dataclass(frozen=True)
class Sandbox:
    """The paths of a demo sandbox."""

    directory: Path
    config_path: Path
    mail: Path
    outbox: Path


def local_zone_name() -> str:
    """The system's IANA zone name, or "UTC" when it cannot be told."""
    import tzlocal

    try:
        name = tzlocal.get_localzone_name() or "UTC"
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "UTC"
    return name


def ensure_empty(directory: Path) -> None:
    """Refuse a sandbox directory that holds anything: the demo never overwrites."""
    try:
        taken = directory.exists() and (not directory.is_dir() or any(directory.iterdir()))
    except OSError as exc:
        raise UserError(f"{directory}: {exc.strerror}") from None
    if taken:
        raise UserError(f"{directory} is not an empty directory; give a new or empty --dir")


def build(directory: Path, *, now: datetime, followup_delay: timedelta, zone: str) -> Sandbox:
    """Create the sandbox in `directory` (new or empty): the Maildir, its mail, the config."""
    ensure_empty(directory)
    mail, outbox = directory / "mail", directory / "outbox"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        box = mailbox.Maildir(mail, create=True)
        for folder in ("Decline", "Sent"):
            box.add_folder(folder)
        for message in demo_mail.sandbox_inbox(now, ZoneInfo(zone)):
            box.add(message.raw)
        config_path = directory / "config.toml"
        config_path.write_text(_config_text(followup_delay, zone), encoding="utf-8")
        config_path.chmod(0o600)  # as `init` writes one: it could hold a secret
    except OSError as exc:
        raise RuntimeFailure(f"cannot build the demo sandbox in {directory}: {exc}") from None
    return Sandbox(directory, config_path, mail, outbox)


def _config_text(followup_delay: timedelta, zone: str) -> str:
    seconds = max(1, int(followup_delay.total_seconds()))
    name, address = demo_mail.ME
    return f"""# decliner demo sandbox: a local Maildir source and the maildir transport.
# Nothing leaves this machine: "sent" mail is written to outbox/.

[account]
name = "{name}"
email = "{address}"
timezone = "{zone}"

[maildir]
path = "mail"                       # Maildir++: INBOX is mail/, Decline is mail/.Decline
folders = ["INBOX"]
flag_folder = "Decline"
sent_folder = "Sent"

[smtp]
transport = "maildir"               # write each message to outbox/ instead of sending it
maildir_path = "outbox"

[withdrawal]
reason = "{REASON}"
grace = "0"                         # normally "5m": time to change your mind

[followup]
delay = "{seconds}s"                       # normally "1d"
business_hours = ""
business_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

[state]
path = "state.db"
"""


CALENDAR_COPY = "acme-interview.ics"


def own_calendar(sandbox: Sandbox) -> LocalCalendar | None:
    """A local CalDAV server holding the user's copy of the Acme interview, its [calendar]
    section added to the sandbox config; None when Radicale is not installed or fails."""
    if not demo_calendar.available():
        return None
    calendar = LocalCalendar(sandbox.directory / "calendar")
    try:
        calendar.start()
        inbox = mailbox.Maildir(sandbox.mail, create=False)
        acme = next(m for m in inbox if "Acme" in str(m["Subject"]))
        part = next(p for p in acme.walk() if p.get_content_type() == "text/calendar")
        text = bytes(part.get_payload(decode=True)).decode("utf-8")
        copy = "".join(
            line for line in text.splitlines(keepends=True) if not line.startswith("METHOD:")
        )
        calendar.put(CALENDAR_COPY, copy)
        with sandbox.config_path.open("a", encoding="utf-8") as config:
            config.write(calendar.config_section())
    except (OSError, StopIteration):
        calendar.stop()
        return None
    return calendar


def without_calendar(config_path: Path, calendar: LocalCalendar) -> None:
    """Comment the sandbox's [calendar] out once its server has stopped, so the commands
    the demo suggests do not report a calendar that is gone."""
    section = calendar.config_section()
    text = config_path.read_text(encoding="utf-8")
    stopped = "".join(
        f"# {line}" if line.strip() and not line.startswith("#") else line
        for line in section.splitlines(keepends=True)
    )
    note = "# (the demo stopped this server when it ended)\n"
    config_path.write_text(text.replace(section, stopped + note), encoding="utf-8")
