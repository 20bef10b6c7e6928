"""Our messages and calendar updates as the outbox keeps them: the plain data planning reads.

Kinds: the `withdrawal` letter and its `followup`; the `calendar` update of the user's own
calendar; a `decline`, the iTIP REPLY message to the organizer of another interview that a
process letter withdraws from (SPEC 18).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

RowKind = Literal["withdrawal", "followup", "calendar", "decline"]
CancelReason = Literal["unflagged", "missed", "cancelled_by_organizer", "replied", "merged"]
CalendarChange = Literal["decline", "delete"]


@dataclass(frozen=True, slots=True)
class RowKey:
    """An outbox row's address: an event has at most one row of each kind, for ever."""

    event_id: str
    kind: RowKind


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One of our messages (or a calendar update), as stored."""

    id: int
    event_id: str
    kind: RowKind
    state: str
    due: datetime
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    raw: bytes | None
    attempts: int
    last_error: str | None
    last_attempt: datetime | None
    last_outcome: str | None
    sent_at: datetime | None
    cancel_reason: str | None
    copied: bool
    created: datetime
    change: CalendarChange | None = None  # a calendar row's
    covers: tuple[str, ...] = ()  # a process letter's: the other events it withdraws from

    @property
    def key(self) -> RowKey:
        """The row's (event, kind) address."""
        return RowKey(self.event_id, self.kind)
