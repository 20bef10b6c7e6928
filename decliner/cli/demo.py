"""`decliner demo`: the whole flow on a throw-away local sandbox, with the real code paths.

The sandbox is a directory holding a Maildir++ tree (INBOX with invitations
from three kinds of scheduler and one plain mail, Decline, Sent), a config
that reads it as a `[maildir]` source and "sends" with the maildir transport
into ``outbox/`` (what the recruiters receive), and the state db. `run`
builds it and walks through the flow, yielding what happens as `Item`s for
the CLI to print: the same service functions as `invites`, `preview`,
`run --once` and `log`, no network, no account, no root.
"""

from __future__ import annotations

import mailbox
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decliner import config as cfg
from decliner.cli import demo_calendar, demo_mail
from decliner.cli.demo_calendar import LocalCalendar
from decliner.core.parse.mime import parse_headers
from decliner.core.plan.plan import Kind
from decliner.errors import RuntimeFailure, UserError
from decliner.mail.ingest import ScanReport
from decliner.mail.maildir import add_flag, delivery_order, folder_path
from decliner.service import passes, preview, thread_log, wiring
from decliner.service.listing import InviteView, invites
from decliner.service.preview import OutboxRow
from decliner.service.runner import PassReport
from decliner.service.thread_log import LogEntry
from decliner.service.wiring import Store

REASON = "I have accepted another offer"


@dataclass(frozen=True)
class Step:
    """A numbered heading."""

    number: int
    title: str


@dataclass(frozen=True)
class Say:
    """A paragraph of narration."""

    text: str


@dataclass(frozen=True)
class Mailbox:
    """The messages of a folder: (from, subject) pairs."""

    folder: str
    messages: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Invites:
    """What `decliner invites` shows."""

    views: Sequence[InviteView]
    zone: ZoneInfo


@dataclass(frozen=True)
class Message:
    """A message as its reader sees it (`preview`), under a title."""

    title: str
    raw: bytes


@dataclass(frozen=True)
class Pass:
    """What one `run --once` pass did."""

    report: PassReport


@dataclass(frozen=True)
class Log:
    """What `decliner log` shows."""

    entries: Sequence[LogEntry]
    zone: ZoneInfo


@dataclass(frozen=True)
class Wait:
    """About to wait this long (for the follow-up's delay)."""

    seconds: float


@dataclass(frozen=True)
class Commands:
    """Where the sandbox is, and commands to try against it."""

    directory: Path
    config: Path
    outbox: Path
    examples: tuple[str, ...]
    program: str


Item = Step | Say | Mailbox | Invites | Message | Pass | Log | Wait | Commands


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


def run(
    directory: Path,
    *,
    followup_delay: timedelta = timedelta(seconds=5),
    now: Callable[[], datetime] = wiring.utcnow,
    sleep: Callable[[float], None] = time.sleep,
    program: str = "decliner",
    keep: bool = True,
) -> Iterator[Item]:
    """Build the sandbox and walk through the flow, yielding what happens.

    With `keep`, the last item says where the sandbox is and what to try on it.
    """
    sandbox = build(directory, now=now(), followup_delay=followup_delay, zone=local_zone_name())
    calendar = _own_calendar(sandbox)
    try:
        config = cfg.load(sandbox.config_path)
        zone = config.account.zone
        with wiring.open_store(config) as store:
            store.lock_daemon()
            acme, initech = yield from _read_and_flag(sandbox, config, store, zone, now)
            yield from _act(
                sandbox, config, store, zone, acme, now=now, sleep=sleep, calendar=calendar
            )
    finally:
        if calendar is not None:
            calendar.stop()
            _without_calendar(sandbox.config_path, calendar)
    if not keep:
        return
    command = f"{program} --config {sandbox.config_path}"
    yield Commands(
        sandbox.directory,
        sandbox.config_path,
        sandbox.outbox,
        (
            f"{command} invites --all",
            f"{command} log",
            f"{command} preview {acme.event.id[:6]} --followup",
            f"{command} flag {initech.event.id[:6]} && {command} run --once",
            f"{command} check",
        ),
        program,
    )


CALENDAR_COPY = "acme-interview.ics"


def _own_calendar(sandbox: Sandbox) -> LocalCalendar | None:
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


def _without_calendar(config_path: Path, calendar: LocalCalendar) -> None:
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


def _read_and_flag(
    sandbox: Sandbox,
    config: cfg.Config,
    store: Store,
    zone: ZoneInfo,
    now: Callable[[], datetime],
) -> Generator[Item, None, tuple[InviteView, InviteView]]:
    """Steps 1 to 4; the invitation flagged, and another one."""
    inbox = mailbox.Maildir(sandbox.mail, create=False)
    yield Step(1, "A mailbox")
    yield Say(
        f"A throw-away Maildir in {sandbox.mail}, as mbsync or offlineimap would keep it,"
        " with four messages in the INBOX:"
    )
    yield Mailbox("INBOX", _listing(inbox))

    yield Step(2, "decliner reads it")
    yield Say("`decliner invites` reads the new mail and lists the invitations it found:")
    report = passes.scan(config, store)
    yield Say(_scanned(report))
    views = invites(config, store, now(), include_past=False)
    yield Invites(views, zone)
    yield Say(
        "Globex's invitation comes from a robot (no-reply@...); decliner writes to the"
        " recruiter named in its Reply-To instead. The dinner mail is no invitation."
    )

    acme = next(v for v in views if "acme" in (v.recipient_email or ""))
    initech = next(v for v in views if "initech" in (v.recipient_email or ""))
    yield Step(3, "You flag the Acme interview")
    yield Say(
        "As you would in mutt or aerc: copy the invitation into the Decline folder. You also"
        " mark the Initech one as important (the Maildir F flag): that withdraws nobody."
    )
    keys = {m["Message-ID"]: k for k, m in inbox.items()}
    acme_key = keys[acme.event.invite.message_id]
    decline = mailbox.Maildir(folder_path(sandbox.mail, "Decline"), create=False)
    decline.add(inbox.get_bytes(acme_key))
    add_flag(sandbox.mail, keys[initech.event.invite.message_id], "F")
    passes.scan(config, store)
    yield Invites(invites(config, store, now(), include_past=False), zone)

    yield Step(4, "Preview")
    yield Say(f"`decliner preview {acme.event.id[:6]}`: the message, before anything is sent.")
    yield Message("preview", preview.message(config, store, acme.event.id, kind="withdrawal"))
    return acme, initech


def _act(
    sandbox: Sandbox,
    config: cfg.Config,
    store: Store,
    zone: ZoneInfo,
    acme: InviteView,
    *,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    calendar: LocalCalendar | None,
) -> Iterator[Item]:
    """Steps 5 to 10: the passes, your calendar, the reply, the follow-up, the log, the
    recruiter's view."""
    inbox = mailbox.Maildir(sandbox.mail, create=False)
    yield Step(5, "The daemon acts")
    yield Say(
        "`decliner run --once` is one pass of the daemon: read new mail, note flags, send"
        " what is due. The sandbox's grace period is 0 (normally 5 minutes to change your"
        " mind with `decliner unflag`), so the withdrawal goes out at once:"
    )
    before = calendar.get(CALENDAR_COPY) if calendar else ""
    yield Pass(passes.run_once(config, store, now=now))

    yield Step(6, "Your own calendar")
    if calendar is None:
        yield Say(
            "Your provider put the interview in your own calendar too, and a reply by mail"
            " does not change that copy. With a [calendar] section decliner declines it there"
            " over CalDAV. To see it here, install the Radicale CalDAV server"
            " (pip install radicale) and run the demo again: it starts one in the sandbox."
        )
    else:
        yield Say(
            f"Your provider put the interview in your own calendar too ({calendar.calendar_url}"
            " on a local Radicale the demo started). The same pass declined it there: your"
            " attendee line before and after, the rest of the event unchanged:"
        )
        yield Say(_attendee_lines(before, calendar.get(CALENDAR_COPY)))

    yield Step(7, "Priya answers")
    withdrawal = _outbox_row(store, acme.event.id, "withdrawal").raw or b""
    inbox.add(demo_mail.reply_to(withdrawal, now()))
    yield Say("Her reply arrives in the INBOX; the next pass logs it in the thread:")
    yield Pass(passes.run_once(config, store, now=now))

    followup = _outbox_row(store, acme.event.id, "followup")
    yield Step(8, "The follow-up")
    wait = max(0.0, (followup.due - now()).total_seconds())
    yield Say(
        f"The written confirmation is due {_seconds(config.followup.delay)} after the withdrawal"
        " (normally a day, within business hours); it answers her reply."
    )
    yield Wait(wait)
    for _attempt in range(10):
        sleep(max(0.0, (followup.due - now()).total_seconds()) + 0.2)
        done = passes.run_once(config, store, now=now)
        if done.sent or done.failed:
            yield Pass(done)
            break
    else:
        yield Say("The follow-up has not gone out; `decliner log` says why.")

    yield Step(9, "The log")
    yield Say("`decliner log`: each thread, message by message.")
    yield Log(thread_log.log_entries(config, store), zone)

    yield Step(10, "What the recruiter received")
    outbox = mailbox.Maildir(sandbox.outbox, create=False)
    for title, raw in zip(("the withdrawal", "the follow-up"), _delivered(outbox), strict=False):
        yield Message(title, raw)


def _attendee_lines(before: str, after: str) -> str:
    """The user's ATTENDEE line (unfolded) in `before` and `after`."""

    def mine(text: str) -> str:
        lines = text.replace("\r\n ", "").replace("\n ", "").splitlines()
        return next(
            (line for line in lines if line.startswith("ATTENDEE") and demo_mail.ME[1] in line), ""
        )

    return f"  before: {mine(before)}\n  after:  {mine(after)}"


def _listing(box: mailbox.Maildir) -> tuple[tuple[str, str], ...]:
    """(From, Subject) of each message, decoded, in delivery order."""
    found = []
    for key in sorted(box.keys(), key=delivery_order):
        headers = parse_headers(box.get_bytes(key))
        sender = headers.from_
        who = f"{sender.name} <{sender.email}>" if sender and sender.name else str(sender)
        found.append((who, headers.subject))
    return tuple(found)


def _scanned(report: ScanReport) -> str:
    return (
        f"Read {report.new_messages} new messages in {', '.join(report.folders)}:"
        f" {report.invites} invitations."
    )


def _seconds(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _outbox_row(store: Store, event_id: str, kind: Kind) -> OutboxRow:
    row = preview.stored_message(store, event_id, kind)
    if row is None:
        raise RuntimeFailure(f"demo: no {kind} was queued for {event_id}")
    return row


def _delivered(box: mailbox.Maildir) -> list[bytes]:
    """The outbox's messages in delivery order (unique names start with the time)."""
    return [box.get_bytes(k) for k in sorted(box.keys(), key=delivery_order)]
