"""Plan, then act: from what is known about each interview, the outbox actions due now.

`plan` is pure and runs once per pass. The shell applies its bookkeeping
(Schedule, Reschedule, Cancel) in one transaction, then acts on each Dispatch
through the outbox (store the rendered bytes as pending, send, mark sent, each
step committed). A row scheduled and already due is dispatched in the same
plan: its Dispatch names `NEW_ROW`, the row the Schedule before it creates.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord

Kind = Literal["withdrawal", "followup", "calendar"]
CancelReason = Literal["unflagged", "missed", "cancelled_by_organizer", "replied"]
UTC_ZONE = ZoneInfo("UTC")
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
NEW_ROW = 0  # in an action: the row made by the Schedule just before it in the plan
SLOT_SEARCH_DAYS = 31  # weekends and public holidays in a row never come close


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """The part of an outbox row that planning needs."""

    id: int
    kind: Kind
    state: str
    due: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    cancel_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Situation:
    """Everything known about one interview: flags, recipient, outbox, replies."""

    event: EventRecord
    flagged_since: datetime | None
    recipient: Address | None
    withdrawal: OutboxEntry | None = None
    followup: OutboxEntry | None = None
    replied: bool = False
    reason: str = ""  # the flag's own reason ([[cancel]].reason, flag --reason), if any


@dataclass(frozen=True, slots=True)
class Policy:
    """The config values that planning obeys."""

    grace: timedelta
    min_notice: timedelta
    followup_enabled: bool = True
    followup_delay: timedelta = timedelta(days=1)
    business_hours: tuple[time, time] | None = (time(9), time(17))
    business_days: frozenset[int] = frozenset(range(5))
    skip_if_replied: bool = False
    zone: ZoneInfo = UTC_ZONE
    holidays: Container[date] = frozenset()  # public holidays: no business days either


@dataclass(frozen=True, slots=True)
class Schedule:
    """Create the event's outbox row of this kind, waiting until `due`."""

    event_id: str
    kind: Kind
    due: datetime


@dataclass(frozen=True, slots=True)
class Reschedule:
    """Bring a cancelled row back (the flag was set again), waiting until `due`."""

    row_id: int
    due: datetime


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel a row that has not been sent, saying why."""

    row_id: int
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Render the row if it is not yet, from what `situation` carries, then make one attempt."""

    row_id: int
    kind: Kind
    situation: Situation
    short_notice: bool = False

    @property
    def event_id(self) -> str:
        """The event the message is about."""
        return self.situation.event.id


Action = Schedule | Reschedule | Cancel | Dispatch


def plan(situations: Iterable[Situation], now: datetime, policy: Policy) -> list[Action]:
    """Every action due now, for all interviews."""
    return [action for s in situations for action in _withdrawal(s, now, policy)] + [
        action for s in situations for action in _followup(s, now, policy)
    ]


def _withdrawal(s: Situation, now: datetime, policy: Policy) -> Iterator[Action]:
    row, event = s.withdrawal, s.event
    wanted = s.flagged_since is not None and not event.cancelled_by_organizer
    if row is None:
        if wanted and s.recipient is not None and s.flagged_since is not None:
            due = s.flagged_since + policy.grace
            yield Schedule(event.id, "withdrawal", due)
            new = OutboxEntry(NEW_ROW, "withdrawal", "scheduled", due)
            yield from _scheduled_withdrawal(s, new, now, policy)
        return
    if row.state == "scheduled":
        yield from _scheduled_withdrawal(s, row, now, policy)
    elif row.state == "cancelled":
        if wanted and row.cancel_reason == "unflagged" and s.flagged_since is not None:
            due = s.flagged_since + policy.grace
            yield Reschedule(row.id, due)
            revived = replace(row, state="scheduled", due=due, cancel_reason=None)
            yield from _scheduled_withdrawal(s, revived, now, policy)
    elif row.state == "pending" and now >= row.due:
        if event.cancelled_by_organizer and row.attempts == 0:
            yield Cancel(row.id, "cancelled_by_organizer")
        else:
            yield Dispatch(row.id, "withdrawal", s, event.start - now < policy.min_notice)


def _scheduled_withdrawal(
    s: Situation, row: OutboxEntry, now: datetime, policy: Policy
) -> Iterator[Action]:
    event = s.event
    if s.flagged_since is None:
        yield Cancel(row.id, "unflagged")
    elif event.cancelled_by_organizer:
        yield Cancel(row.id, "cancelled_by_organizer")
    elif now >= row.due and s.recipient is not None:
        if event.start <= now:
            yield Cancel(row.id, "missed")
        else:
            yield Dispatch(row.id, "withdrawal", s, event.start - now < policy.min_notice)


def _followup(s: Situation, now: datetime, policy: Policy) -> Iterator[Action]:
    sent, row = s.withdrawal, s.followup
    if sent is None or sent.state != "sent" or sent.sent_at is None:
        return
    if row is None:
        # Normally queued with the withdrawal's "sent" (runner); this catches a
        # db from before that, or follow-ups enabled after the withdrawal went.
        if (due := followup_due(sent.sent_at, policy)) is not None:
            yield Schedule(s.event.id, "followup", due)
            yield from _waiting_followup(
                s, OutboxEntry(NEW_ROW, "followup", "scheduled", due), now, policy
            )
        return
    yield from _waiting_followup(s, row, now, policy)


def _waiting_followup(
    s: Situation, row: OutboxEntry, now: datetime, policy: Policy
) -> Iterator[Action]:
    if row.state == "scheduled":
        if policy.skip_if_replied and s.replied:
            yield Cancel(row.id, "replied")
        elif now >= row.due:
            yield Dispatch(row.id, "followup", s)
    elif row.state == "pending" and now >= row.due:
        yield Dispatch(row.id, "followup", s)


def followup_due(sent_at: datetime, policy: Policy) -> datetime | None:
    """When the follow-up to a withdrawal sent at `sent_at` is due (SPEC 8); None if disabled."""
    if not policy.followup_enabled:
        return None
    return next_business_slot(sent_at + policy.followup_delay, policy)


def next_business_slot(instant: datetime, policy: Policy) -> datetime:
    """The first moment at or after `instant` inside business hours and days, in the account zone.

    Local wall-clock times are built per day, so a DST change between `instant`
    and the slot moves the UTC instant, not the local hour.
    """
    days = policy.business_days or frozenset(range(7))
    local = instant.astimezone(policy.zone)
    for offset in range(SLOT_SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days or day in policy.holidays:
            continue
        if policy.business_hours is None:
            return instant if offset == 0 else _local(day, time(0), policy.zone)
        start, end = (_local(day, t, policy.zone) for t in policy.business_hours)
        if instant < start:
            return start
        if instant < end:
            return instant
    raise ValueError(f"no business day in {SLOT_SEARCH_DAYS} days")  # a year of holidays?


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after `attempts` failed tries: 30 s doubling, at most 30 min."""
    doublings: int = min(max(attempts - 1, 0), 10)
    return min(RETRY_FIRST * (1 << doublings), RETRY_MAX)
