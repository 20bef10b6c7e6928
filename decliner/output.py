"""Terminal output for the CLI: rich tables, progress bars and JSON. Formatting only."""

from __future__ import annotations

import email
import email.policy
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from decliner.config import Config
    from decliner.runner import PassReport
    from decliner.service import InviteView, LogEntry, UnflagResult
    from decliner.sync import Progress as ScanProgress

STATUS_STYLE = {
    "upcoming": "",
    "flagged": "yellow",
    "needs_recipient": "bold red",
    "withdrawn": "green",
    "confirmed": "green",
    "cancelled_by_organizer": "dim",
    "past": "dim",
    "missed": "red",
}


def print_json(data: Any) -> None:
    """JSON for scripts: one document on stdout, UTF-8, stable key order."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def scan_progress(min_total: int = 200) -> Iterator[ScanProgress | None]:
    """A progress bar for a first scan of a large folder, only when stderr is a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("reading {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(folder: str, done: int, total: int) -> None:
        if total < min_total:
            return
        if folder not in tasks:
            tasks[folder] = bar.add_task(folder, total=total)
        bar.update(tasks[folder], completed=done)

    with bar:
        yield update


def invites_table(views: Sequence[InviteView], zone: ZoneInfo) -> None:
    """The invitations as a table: when, what, who, status."""
    console = Console()
    if not views:
        console.print("No invitations found. (Use --all to include past ones.)")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("id", no_wrap=True)  # the shortest unique prefix; any unique prefix works
    table.add_column("when", no_wrap=True)
    table.add_column("summary", overflow="fold", ratio=1, min_width=16)
    table.add_column("organizer", overflow="fold")
    table.add_column("recipient", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("flag", no_wrap=True)
    width = short_id_width([v.event.id for v in views])
    for view in views:
        event = view.event
        start = event.start.astimezone(zone)
        when = f"{start:%a %Y-%m-%d}" + ("" if event.all_day else f" {start:%H:%M}")
        who = view.recipient_email or "[bold red]none[/bold red]"
        organizer = event.organizer.email if event.organizer else "-"
        style = STATUS_STYLE.get(view.status, "")
        table.add_row(
            event.id[:width],
            when,
            event.summary + ("" if event.interview else " [dim](not an interview?)[/dim]"),
            organizer,
            who if who != organizer else "[dim]organizer[/dim]",
            f"[{style}]{view.status}[/{style}]" if style else view.status,
            view.flagged_by or "",
        )
    console.print(table)


def short_id_width(ids: Sequence[str], minimum: int = 6) -> int:
    """The shortest prefix length (at least `minimum`) that keeps every id distinct."""
    width = minimum
    while width < max((len(i) for i in ids), default=0) and len({i[:width] for i in ids}) < len(
        set(ids)
    ):
        width += 1
    return width


def pass_report(report: PassReport) -> None:
    """What one `run --once` pass did, a line per thing that happened."""
    console = Console()
    scan = report.scan
    console.print(
        f"read {scan.new_messages} new message(s) in {len(scan.folders)} folder(s);"
        f" {scan.invites} invitation(s) found"
    )
    for line in scan.skipped:
        console.print(f"[yellow]skipped[/yellow] {line}", highlight=False)
    for line in report.sent:
        console.print(f"[green]sent[/green] {line}", highlight=False)
    for line in report.retrying:
        console.print(f"[yellow]will retry[/yellow] {line}", highlight=False)
    for line in report.failed:
        console.print(f"[bold red]failed[/bold red] {line}", highlight=False)


def flag_result(view: InviteView, config: Config) -> None:
    """Confirm a flag, saying who will get what, and when."""
    event = view.event
    when = event.start.astimezone(config.account.zone)
    console = Console()
    console.print(
        f"Flagged {event.id}: {event.summary} ({when:%a %Y-%m-%d %H:%M})", highlight=False
    )
    if view.recipient_email is None:
        console.print(
            "[bold red]No recipient:[/bold red] the organizer is you or a robot. Give one with"
            f" `decliner flag {event.id} --to ADDRESS`."
        )
    elif view.status == "flagged":
        grace = config.withdrawal.grace
        console.print(
            f"The withdrawal to {view.recipient_email} goes out at the next pass after {grace}"
            f" (undo with `decliner unflag {event.id}`).",
            highlight=False,
        )
    else:
        console.print(f"Status: {view.status}")


def unflag_result(result: UnflagResult) -> None:
    """Say what was unflagged, and what still stands."""
    console = Console()
    event = result.event
    removed = ", ".join(result.removed) or "nothing (no CLI or keyword flag was set)"
    console.print(f"{event.id}: removed {removed}", highlight=False)
    if result.remaining:
        hints = {
            "config": "remove its [[cancel]] table from the config file",
            "folder": "move the invite out of the flag folder",
        }
        for source in result.remaining:
            console.print(f"[yellow]still flagged by {source}[/yellow]: {hints.get(source, '')}")
    if result.withdrawal_state in ("pending", "sent"):
        console.print(
            f"[bold red]Too late:[/bold red] the withdrawal is already {result.withdrawal_state}."
        )
    elif result.withdrawal_state == "cancelled" and not result.remaining:
        console.print("The scheduled withdrawal is cancelled; nothing will be sent.")


def preview(raw: bytes) -> None:
    """A message as the recipient would read it: headers, body, a line for the calendar."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    out = sys.stdout
    for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
        if message[name] is not None:
            out.write(f"{name}: {message[name]}\n")
    out.write("\n")
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and not part.get_filename():
            out.write(str(part.get_content()))
        elif kind in {"text/calendar", "application/ics"}:
            filename = part.get_filename()
            label = f"attachment {filename}" if filename else kind
            out.write(f"\n[{label}: {calendar_summary(part.get_content())}]\n")


def calendar_summary(content: object) -> str:
    """One line for an iTIP calendar: method, the attendee's answer, event and time."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    fields: dict[str, str] = {}
    for line in text.replace("\r\n ", "").splitlines():
        name, _, value = line.partition(":")
        key = name.split(";")[0].upper()
        if key in {"METHOD", "SUMMARY", "DTSTART", "UID"} and key not in fields:
            fields[key] = value
        if key == "ATTENDEE":
            partstat = next(
                (p.split("=")[1] for p in name.split(";") if p.upper().startswith("PARTSTAT=")), "?"
            )
            fields["ATTENDEE"] = (
                f"{value.removeprefix('mailto:').removeprefix('MAILTO:')} {partstat}"
            )
    return (
        f"{fields.get('METHOD', '?')}, {fields.get('ATTENDEE', 'no attendee')}"
        f' for "{fields.get("SUMMARY", "")}" at {fields.get("DTSTART", "?")} (UID {fields.get("UID", "?")})'
    )


STATE_STYLE = {
    "sent": "green",
    "received": "cyan",
    "failed": "bold red",
    "cancelled": "dim",
    "pending": "yellow",
}


def log_threads(entries: Sequence[LogEntry], zone: ZoneInfo) -> None:
    """Each thread as a heading and its messages: what went to whom, and what came back."""
    console = Console(highlight=False)
    if not entries:
        console.print("Nothing sent or received yet.")
        return
    current = None
    for entry in entries:
        event = entry.event
        if event.id != current:
            current = event.id
            start = event.start.astimezone(zone)
            console.print()
            console.print(
                f"[bold]{event.summary}[/bold]  {start:%a %Y-%m-%d %H:%M}  [dim]{event.id}[/dim]"
            )
        arrow = "→" if entry.direction == "out" else "←"
        who = (
            f"to {', '.join(entry.to) or '?'}"
            if entry.direction == "out"
            else f"from {entry.sender}"
        )
        style = STATE_STYLE.get(entry.state, "")
        state = f"[{style}]{entry.state:<9}[/{style}]" if style else f"{entry.state:<9}"
        when = entry.date.astimezone(zone)
        label = "due" if entry.state in ("scheduled", "pending") else ""
        extra = f", {entry.attempts} attempts" if entry.attempts > 1 else ""
        console.print(
            f"  {arrow} {entry.kind:<10} {state} {label:<3} {when:%Y-%m-%d %H:%M}  {who}{extra}"
        )
        console.print(f"      [dim]{entry.subject}[/dim]")
        if entry.error:
            console.print(f"      [red]{entry.error}[/red]")
        if entry.cancel_reason:
            console.print(
                f"      [dim]cancelled: {CANCEL_REASONS.get(entry.cancel_reason, entry.cancel_reason)}[/dim]"
            )


CANCEL_REASONS = {
    "unflagged": "the flag was removed within the grace period",
    "missed": "the interview had already begun when the grace period ended",
    "cancelled_by_organizer": "the organizer cancelled the interview",
    "replied": "they replied, and followup.skip_if_replied is on",
}
