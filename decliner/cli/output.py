"""What the commands print for a person on a terminal: rich tables and reports.

JSON is json_output.py's, the scan's progress bar progress.py's, and a message as its
recipient reads it preview_text.py's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from decliner.cli.pass_output import pass_report
from decliner.cli.preview_text import print_message

if TYPE_CHECKING:
    from decliner.cli.demo import Commands as DemoCommands
    from decliner.cli.demo import Item as DemoItem
    from decliner.cli.providers import Provider
    from decliner.config import Config
    from decliner.core.plan.events import EventRecord
    from decliner.service.flagging import UnflagResult
    from decliner.service.listing import InviteView
    from decliner.service.thread_log import LogEntry

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


def invites_table(views: Sequence[InviteView], zone: ZoneInfo) -> None:
    """The invitations as a table: when, what, who, status."""
    console = Console()
    if not views:
        console.print("No invitations found. (Use --all to include past ones.)")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("id", no_wrap=True)  # the shortest unique prefix; any unique prefix works
    table.add_column("when", no_wrap=True)
    table.add_column("summary", overflow="fold", ratio=1, min_width=12)
    table.add_column("organizer", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("recipient", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("status", no_wrap=True, min_width=8)
    table.add_column("flag", no_wrap=True, min_width=6)
    with_calendar = any(v.calendar or v.event.invite.from_calendar for v in views)
    if with_calendar:
        table.add_column("calendar", no_wrap=True)
    with_links = any(v.event.booking_links or v.event.kind == "static" for v in views)
    if with_links:
        table.add_column("booking", no_wrap=True, min_width=9)  # static kind, links to open
    width = short_id_width([v.event.id for v in views])
    for view in views:
        event = view.event
        start = event.start.astimezone(zone)
        when = f"{start:%a %Y-%m-%d}" + ("" if event.all_day else f" {start:%H:%M}")
        who = view.recipient_email or "[bold red]none[/bold red]"
        organizer = event.organizer.email if event.organizer else "-"
        style = STATUS_STYLE.get(view.status, "")
        cells = [
            event.id[:width],
            when,
            escape(event.summary) + ("" if event.interview else " [dim](not an interview?)[/dim]"),
            escape(organizer),
            escape(who) if who != organizer else "[dim]organizer[/dim]",
            f"[{style}]{view.status}[/{style}]" if style else view.status,
            view.flagged_by or "",
        ]
        if with_calendar:
            seen = "[dim]only here[/dim] " if event.invite.from_calendar else ""
            cells.append(seen + (view.calendar or ""))
        if with_links:
            cells.append(booking_marker(event))
        table.add_row(*cells)
    console.print(table)


def booking_marker(event: EventRecord) -> str:
    """'static' for a calendar nobody can answer, and '↗N' for N booking links to open
    (`invites --json` and `preview` show them)."""
    parts = (["static"] if event.kind == "static" else []) + (
        [f"↗{len(event.booking_links)}"] if event.booking_links else []
    )
    return " ".join(parts)


def short_id_width(ids: Sequence[str], minimum: int = 6) -> int:
    """The shortest prefix length (at least `minimum`) that keeps every id distinct."""
    width = minimum
    while width < max((len(i) for i in ids), default=0) and len({i[:width] for i in ids}) < len(
        set(ids)
    ):
        width += 1
    return width


def lines_console(*, highlight: bool = True) -> Console:
    """A console for line output that never breaks a line itself (a terminal wraps what is
    too long for it): piped or in the journal an address or a URL stays whole."""
    return Console(soft_wrap=True, highlight=highlight)


def flag_result(view: InviteView, config: Config) -> None:
    """Confirm a flag, saying who will get what, and when."""
    event = view.event
    when = event.start.astimezone(config.account.zone)
    console = lines_console()
    console.print(
        f"Flagged {event.id}: {escape(event.summary)} ({when:%a %Y-%m-%d %H:%M})", highlight=False
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
    console = lines_console()
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


STATE_STYLE = {
    "sent": "green",
    "received": "cyan",
    "failed": "bold red",
    "cancelled": "dim",
    "pending": "yellow",
}


def log_threads(entries: Sequence[LogEntry], zone: ZoneInfo) -> None:
    """Each thread as a heading and its messages: what went to whom, and what came back."""
    console = lines_console(highlight=False)
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
                f"[bold]{escape(event.summary)}[/bold]  {start:%a %Y-%m-%d %H:%M}  [dim]{event.id}[/dim]"
            )
            for link in event.booking_links:
                console.print(
                    f"  [dim]{link.action} in {escape(link.tool)} (open it yourself):"
                    f" {escape(link.url)}[/dim]"
                )
        arrow = "→" if entry.direction == "out" else "←"
        who = (
            f"in {', '.join(entry.to) or 'your calendar'}"
            if entry.kind == "calendar"
            else f"to {', '.join(entry.to) or '?'}"
            if entry.direction == "out"
            else f"from {entry.sender}"
        )
        style = STATE_STYLE.get(entry.state, "")
        state = f"[{style}]{entry.state:<9}[/{style}]" if style else f"{entry.state:<9}"
        when = entry.date.astimezone(zone)
        label = "due" if entry.state in ("scheduled", "pending") else ""
        extra = f", {entry.attempts} attempts" if entry.attempts > 1 else ""
        console.print(
            f"  {arrow} {entry.kind:<10} {state} {label:<3} {when:%Y-%m-%d %H:%M}  {escape(who)}{extra}"
        )
        if entry.subject is not None:
            console.print(f"      [dim]{escape(entry.subject)}[/dim]")
        if entry.error:
            console.print(f"      [red]{escape(entry.error)}[/red]")
        if entry.cancel_reason:
            console.print(
                f"      [dim]cancelled: {CANCEL_REASONS.get(entry.cancel_reason, entry.cancel_reason)}[/dim]"
            )


CANCEL_REASONS = {
    "unflagged": "the flag was removed within the grace period",
    "missed": "the interview had already begun when the grace period ended",
    "cancelled_by_organizer": "the organizer cancelled the interview",
    "replied": "they replied, and followup.skip_if_replied is on",
    "not_in_calendar": "the event is not in your calendar; nothing to change",
}


def init_result(
    path: Path, todo: Sequence[tuple[int, str]], *, default: bool, provider: Provider | None
) -> None:
    """Say where the starter config went, which provider's servers it has, and what next."""
    console = Console(highlight=False, markup=False, soft_wrap=True)
    command = "decliner" if default else f"decliner --config {path}"
    console.print(f"Wrote {path} (readable by you only).")
    if provider is not None:
        console.print(
            f"Servers for {provider.name}: IMAP {provider.imap.host}:{provider.imap.port}"
            f" ({provider.imap.security}), SMTP {provider.smtp.host}:{provider.smtp.port}"
            f" ({provider.smtp.security})."
        )
    else:
        console.print("Provider not recognised: fill in [imap] and [smtp] (or try --provider).")
    console.print("Next:")
    console.print(f"  1. Edit it: {len(todo)} line(s) are marked TODO.")
    for number, what in todo:
        console.print(f"       line {number:<3} {what}")
    console.print(
        "     Mail kept in a local Maildir (mbsync, offlineimap)? Replace [imap] with the"
        " [maildir] table described in the file."
    )
    console.print(f"  2. {command} check --offline   # the file and the templates")
    console.print(f"  3. {command} check             # also logs in to your servers")
    console.print(f"  4. {command} invites           # the invitations it finds")
    console.print("To see the whole flow first, on a throw-away sandbox: decliner demo")


def demo_item(item: DemoItem) -> None:
    """One step of `decliner demo`, printed as it happens."""
    from decliner.cli import demo

    console = Console(highlight=False)
    if isinstance(item, demo.Step):
        console.print()
        console.rule(f"[bold]{item.number}. {item.title}[/bold]", align="left")
    elif isinstance(item, demo.Say):
        console.print(item.text, markup=False)
    elif isinstance(item, demo.Mailbox):
        table = Table(box=None, header_style="bold", pad_edge=False)
        table.add_column("from", overflow="fold")
        table.add_column("subject", overflow="fold", ratio=1)
        for sender, subject in item.messages:
            table.add_row(sender, subject)
        console.print(table)
    elif isinstance(item, demo.Invites):
        invites_table(item.views, item.zone)
    elif isinstance(item, demo.Message):
        console.print(f"[dim]----- {item.title} -----[/dim]")
        sys.stdout.flush()
        print_message(item.raw)
        sys.stdout.flush()
        console.print("[dim]-----[/dim]")
    elif isinstance(item, demo.Pass):
        pass_report(item.report)
    elif isinstance(item, demo.Log):
        log_threads(item.entries, item.zone)
    elif isinstance(item, demo.Wait):
        console.print(f"[dim](waiting {item.seconds:.0f} s for it ...)[/dim]")
    else:
        demo_commands(item)


def demo_commands(item: DemoCommands) -> None:
    """Where the sandbox is and what to try on it."""
    console = Console(highlight=False, markup=False, soft_wrap=True)
    console.print()
    console.print(f"The sandbox is kept in {item.directory}; its config is {item.config}.")
    console.print(f"What the recruiters received is in the Maildir {item.outbox}.")
    console.print("Try the other commands on it:")
    for line in item.examples:
        console.print(f"  {line}")
    console.print(f"Remove it with: rm -rf {item.directory}")
    console.print(
        f"Set decliner up for your own mailbox: {item.program} init --email YOU@EXAMPLE.COM"
    )
    console.print(f"See it all on the review page in your browser: {item.web}")
