"""An event's status as `decliner invites` shows it, from what is known about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Status = Literal[
    "upcoming",
    "flagged",
    "withdrawn",
    "confirmed",
    "cancelled_by_organizer",
    "needs_recipient",
    "past",
    "missed",
]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the status depends on, gathered from the event, its flags and the outbox."""

    start: datetime
    cancelled_by_organizer: bool = False
    flagged: bool = False
    has_recipient: bool = True
    withdrawal: str | None = None  # the outbox state of the withdrawal, if any
    followup: str | None = None
    missed: bool = False


def status(facts: Facts, now: datetime) -> Status:
    """The one status that says most about what happened to an interview."""
    if facts.followup == "sent":
        return "confirmed"
    if facts.withdrawal == "sent":
        return "withdrawn"
    if facts.cancelled_by_organizer:
        return "cancelled_by_organizer"
    if facts.missed:
        return "missed"
    if facts.flagged:
        return "flagged" if facts.has_recipient else "needs_recipient"
    return "past" if facts.start <= now else "upcoming"
