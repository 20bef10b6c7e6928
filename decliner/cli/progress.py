"""The progress bar a first scan of a large folder draws on a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from decliner.mail.ingest import Progress as ScanProgress


@contextmanager
def scan_progress(min_total: int = 200) -> Iterator[ScanProgress | None]:
    """A progress bar for a first scan of a large folder, only when stderr is a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

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
