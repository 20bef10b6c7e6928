"""`decliner demo`: the whole flow on a throw-away local sandbox, with the real code paths.

`run` builds the sandbox (demo_sandbox.py) and walks through the flow, yielding what
happens as `Item`s for the CLI to print: the same service functions as `invites`,
`preview`, `run --once` and `log`, no network, no account, no root.
"""

from __future__ import annotations

import mailbox
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from decliner import config as cfg
from decliner.cli import demo_mail
from decliner.cli.demo_calendar import LocalCalendar
from decliner.cli.demo_sandbox import (
    CALENDAR_COPY,
    Sandbox,
    build,
    local_zone_name,
    own_calendar,
    without_calendar,
)
from decliner.core.parse.mime import parse_headers
from decliner.core.plan.actions import LetterKind
from decliner.core.plan.outbox import OutboxRow
from decliner.errors import RuntimeFailure
from decliner.mail.ingest import ScanReport
from decliner.mail.maildir import add_flag, delivery_order, folder_path
from decliner.service import passes, preview, thread_log, wiring
from decliner.service.execute import PassReport
from decliner.service.listing import InviteView, invites
from decliner.service.thread_log import LogEntry
from decliner.service.wiring import Store


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
    web: str = ""  # the review page on the sandbox (`web --open`)


Item = Step | Say | Mailbox | Invites | Message | Pass | Log | Wait | Commands


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
    calendar = own_calendar(sandbox)
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
            without_calendar(sandbox.config_path, calendar)
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
        web=f"{command} web --open",
    )


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


def _outbox_row(store: Store, event_id: str, kind: LetterKind) -> OutboxRow:
    row = preview.stored_message(store, event_id, kind)
    if row is None:
        raise RuntimeFailure(f"demo: no {kind} was queued for {event_id}")
    return row


def _delivered(box: mailbox.Maildir) -> list[bytes]:
    """The outbox's messages in delivery order (unique names start with the time)."""
    return [box.get_bytes(k) for k in sorted(box.keys(), key=delivery_order)]


def program() -> str:
    """How to run this decliner in the commands printed: the venv's path when not on PATH."""
    import shutil
    import sys

    argv0 = Path(sys.argv[0])
    found = shutil.which("decliner")
    if argv0.name == "decliner" and (found is None or Path(found).resolve() != argv0.resolve()):
        return str(argv0.absolute())
    return "decliner"
