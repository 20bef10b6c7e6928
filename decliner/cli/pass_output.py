"""What one `run --once` pass did, a line per thing that happened.

Kept apart from output.py's tables so that a pass with nothing to say, printed to a pipe
or a journal, does not import rich: its one line is printed as rich would print it there.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decliner.service.report import PassReport

Line = tuple[str, str, str]
"""(rich style, the word it colours, the rest as plain text); a plain line has no style and
no word: ("green", "sent", "withdrawal to ..."), ("", "", "read 0 new message(s) ...")."""


def pass_lines(report: PassReport) -> list[Line]:
    """The report's lines, in the order they are printed."""
    scan = report.scan
    read = f"read {scan.new_messages} new message(s) in {len(scan.folders)} folder(s);"
    lines: list[Line] = [("", "", f"{read} {scan.invites} invitation(s) found")]
    if scan.replies:
        lines.append(("", "", f"logged {scan.replies} reply(ies) in our threads"))
    lines += [("yellow", "skipped", line) for line in scan.skipped]
    lines += [("green", "sent", line) for line in report.sent]
    lines += [("yellow", "will retry", line) for line in report.retrying]
    lines += [("green", "calendar", line) for line in report.calendar_updates]
    found = report.calendar
    if found is not None and (found.fetched or found.removed):
        changed = f"read {found.fetched} new or changed event(s) in {found.calendars} calendar(s),"
        lines.append(("", "", f"{changed} {found.invites} of them invitation(s)"))
    if found is not None:
        lines += [("yellow", "skipped", line) for line in found.skipped]
    lines += [("bold", "booking", line) for line in report.booking]
    lines += [("bold red", "failed", line) for line in report.failed]
    if report.calendar_problem:
        lines.append(("yellow", "calendar trouble", report.calendar_problem))
    return lines


def pass_report(report: PassReport) -> None:
    """Print the report: with rich on a terminal or when anything is styled, else plainly."""
    lines = pass_lines(report)
    if all(not style for style, _, _ in lines) and not _colours():
        sys.stdout.write("".join(f"{text}\n" for _, _, text in lines))
        return
    from rich.markup import escape

    from decliner.cli.output import lines_console

    console = lines_console()
    for style, word, text in lines:
        if style:
            console.print(f"[{style}]{word}[/{style}] {escape(text)}", highlight=False)
        else:
            console.print(text)


def _colours() -> bool:
    """Whether rich would style plain text here: a terminal, or colour forced."""
    return sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR"))
