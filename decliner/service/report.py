"""What one pass did: plain data for `run --once`'s lines and the daemon's status line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from decliner.mail.ports import ScanReport

if TYPE_CHECKING:
    from decliner.calendar.sync import CalendarReport


@dataclass
class PassReport:
    """What one pass did, for `run --once` and the daemon's status line."""

    scan: ScanReport = field(default_factory=ScanReport)
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    calendar: CalendarReport | None = None
    calendar_updates: list[str] = field(default_factory=list)
    calendar_problem: str = ""  # why the calendar could not be read or updated, if it could not
    booking: list[str] = field(default_factory=list)  # links the user should open (SPEC 15)
