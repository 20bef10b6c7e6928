"""Terminal output for the CLI: rich tables, progress bars and JSON. Formatting only."""

from __future__ import annotations

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
    from decliner.service import InviteView
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
