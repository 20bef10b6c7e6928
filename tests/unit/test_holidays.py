"""followup.holidays: public holidays are no business days for the follow-up (SPEC 8, 14)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from decliner.core.plan.timing import Policy, followup_due
from decliner.service.policy import PublicHolidays

BERLIN = ZoneInfo("Europe/Berlin")


def policy(holidays: str, zone: ZoneInfo = BERLIN) -> Policy:
    return Policy(
        grace=timedelta(0),
        min_notice=timedelta(hours=24),
        followup_delay=timedelta(days=1),
        business_hours=(time(9), time(17)),
        business_days=frozenset(range(5)),
        zone=zone,
        holidays=PublicHolidays(holidays) if holidays else frozenset(),
    )


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_german_unity_day_is_skipped() -> None:
    """Sent Thursday 2 October 2025: a day later is 3 October, a holiday in Germany, so
    the follow-up waits for Monday 09:00; without holidays it goes that Friday."""
    sent = local(BERLIN, 2025, 10, 2, 11, 0)
    assert followup_due(sent, policy("DE")) == local(BERLIN, 2025, 10, 6, 9, 0)
    assert followup_due(sent, policy("")) == local(BERLIN, 2025, 10, 3, 11, 0)


@pytest.mark.parametrize(
    ("code", "zone", "day"),
    [
        ("DE", "Europe/Berlin", 28),
        ("US-CA", "America/Los_Angeles", 28),
        ("GB-SCT", "Europe/London", 29),  # Boxing Day falls on a Saturday: Monday instead
    ],
)
def test_christmas_is_skipped_where_it_applies(code: str, zone: str, day: int) -> None:
    """Sent Thursday 24 December 2026: Christmas Day (and where observed, Boxing Day's
    substitute) are skipped; the follow-up comes on the next working day."""
    where = ZoneInfo(zone)
    sent = local(where, 2026, 12, 24, 10, 0)
    assert followup_due(sent, policy(code, where)) == local(where, 2026, 12, day, 9, 0)


def test_holidays_are_looked_up_only_when_asked() -> None:
    """The holidays package answers for the day asked, in any year."""
    days = PublicHolidays("DE")
    assert local(BERLIN, 2031, 12, 25, 0, 0).date() in days
    assert local(BERLIN, 2031, 12, 23, 0, 0).date() not in days
    assert datetime(2031, 10, 3, tzinfo=UTC).date() in days
