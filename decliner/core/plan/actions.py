"""What a pass does, as plain data: each action carries everything its execution needs.

Bookkeeping (`Schedule`, `Reschedule`, `Cancel`) is applied in the transaction that
planned it. The rest is carried out after it, in order: `Send` renders a letter from what
it carries and makes the first attempt; `Resend` tries stored bytes again; `UpdateCalendar`
changes the user's own calendar; `FileCopy` files a sent message in the sent folder. Rows
are addressed by (event, kind), so an action never depends on the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from decliner.core.parse.booking import BookingLink
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord
from decliner.core.plan.naming import NOTHING, Found
from decliner.core.plan.outbox import CalendarChange, CancelReason, RowKey
from decliner.core.plan.timing import Policy, followup_due

LetterKind = Literal["withdrawal", "followup", "decline"]


@dataclass(frozen=True, slots=True)
class Schedule:
    """Create the row `key`, waiting until `due` (a calendar row names its change and URL)."""

    key: RowKey
    due: datetime
    change: CalendarChange | None = None
    calendar_url: str = ""


@dataclass(frozen=True, slots=True)
class Reschedule:
    """Bring a cancelled row back (the flag was set again), waiting until `due`."""

    key: RowKey
    due: datetime


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel a row that was never tried, saying why (`missed` when its time has passed)."""

    key: RowKey
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class FollowupThread:
    """Where a follow-up goes in the thread: after the withdrawal and any reply to it."""

    in_reply_to: str
    references: tuple[str, ...]
    withdrawal_sent: datetime
    withdrawal_subject: str
    replied: bool


@dataclass(frozen=True, slots=True)
class Letter:
    """Everything a withdrawal or follow-up is written from, but the config's wording."""

    kind: LetterKind
    event: EventRecord
    recipient: Address | None
    reason: str = ""  # the flag's own reason; "" = the config's
    language: str = ""  # the `[[cancel]]` rule's language; "" = the account's
    short_notice: bool = False
    thread: FollowupThread | None = None  # a follow-up's; None before the withdrawal is sent
    named: Found = NOTHING  # the role and company the letter names (SPEC 19)
    scope: str = "process"  # "interview": the user remains interested in the role (SPEC 18)
    interviews: tuple[EventRecord, ...] = ()  # all it withdraws from, in time order; () = event
    language_from: EventRecord | None = None  # a decline's: the process letter's event


@dataclass(frozen=True, slots=True)
class MailRef:
    """A message in the mailbox: the invitation to mark answered."""

    folder: str
    uid: int


@dataclass(frozen=True, slots=True)
class UpdateCalendar:
    """Decline or delete the event in the user's own calendar (one attempt)."""

    key: RowKey
    uid: str
    recurrence_id: str
    change: CalendarChange
    attempts: int = 0  # tries made before this one
    cut: bool = False  # the last try never recorded its outcome (a crash)


@dataclass(frozen=True, slots=True)
class AlsoWithdrawn:
    """Another interview a process letter withdraws from (SPEC 18): the REPLY message to its
    organizer (when its invitation can be answered) and its own-calendar update, both
    queued in the transaction that records the letter sent."""

    event_id: str
    reply: Send | None
    calendar: UpdateCalendar | None


@dataclass(frozen=True, slots=True)
class AfterSent:
    """What a message sets off once it is sent: for a withdrawal, its follow-up and the
    calendar row (queued in the transaction that records it sent), the booking links the
    user should open, and the invitation to mark answered when the copy is filed."""

    timing: Policy | None = None  # when set, a follow-up is queued (`followup_due`)
    calendar: UpdateCalendar | None = None
    calendar_url: str = ""
    booking: tuple[BookingLink, ...] = ()
    summary: str = ""
    answered: MailRef | None = None
    others: tuple[AlsoWithdrawn, ...] = ()  # a process letter's other interviews

    @property
    def covers(self) -> tuple[str, ...]:
        """The ids of the other interviews, stored with the letter's bytes."""
        return tuple(other.event_id for other in self.others)

    def followup_due(self, sent_at: datetime) -> datetime | None:
        """When the follow-up is due, counted from the moment the withdrawal went."""
        return None if self.timing is None else followup_due(sent_at, self.timing)


@dataclass(frozen=True, slots=True)
class Send:
    """Render `letter`, store it as the row's bytes, and make the first attempt."""

    key: RowKey
    letter: Letter
    after: AfterSent


@dataclass(frozen=True, slots=True)
class Resend:
    """Try the stored bytes again; first search the sent folder for them if the last
    try never recorded its outcome or was cut during DATA (SPEC 5)."""

    key: RowKey
    message_id: str
    raw: bytes
    recipients: tuple[str, ...]
    attempts: int
    look_in_sent: bool
    after: AfterSent


@dataclass(frozen=True, slots=True)
class FileCopy:
    """File a sent message in the sent folder once, and mark the invitation answered."""

    key: RowKey
    message_id: str | None
    raw: bytes | None
    sent_at: datetime | None
    answered: MailRef | None = None


Bookkeeping = Schedule | Reschedule | Cancel
Act = Send | Resend | UpdateCalendar | FileCopy
Action = Bookkeeping | Act
