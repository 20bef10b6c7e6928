"""When things are due: the planning policy, business-hours slots, retry backoff, short notice."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from decliner.core.plan.events import EventRecord
from decliner.core.plan.outbox import CalendarChange

UTC_ZONE = ZoneInfo("UTC")
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
SLOT_SEARCH_DAYS = 31  # weekends and public holidays in a row never come close


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
    calendar_change: CalendarChange | None = None  # what a withdrawal does to the own calendar
    calendar_url: str = ""


def short_notice(event: EventRecord, now: datetime, policy: Policy) -> bool:
    """Whether a withdrawal written at `now` comes with less notice than `min_notice`."""
    return event.start - now < policy.min_notice


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
