"""When things are due: business-hours slots across DST, retry backoff."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from decliner.core.plan.timing import Policy, next_business_slot, retry_delay


def test_retry_backoff() -> None:
    """Retries wait 30 s, doubling, capped at 30 minutes."""
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 6, 7, 50)] == [
        30,
        60,
        120,
        960,
        1800,
        1800,
    ]


LONDON = Policy(timedelta(0), timedelta(0), zone=ZoneInfo("Europe/London"))
LA = Policy(timedelta(0), timedelta(0), zone=ZoneInfo("America/Los_Angeles"))
SLOTS = [
    # (policy, instant, expected) — exact UTC instants around the 2027 DST changes.
    (
        LONDON,
        "2027-03-26T17:30:00+00:00",
        "2027-03-29T08:00:00+00:00",
    ),  # Fri after hours -> Mon 09:00 BST
    (
        LONDON,
        "2027-03-29T07:30:00+00:00",
        "2027-03-29T08:00:00+00:00",
    ),  # Mon 08:30 BST -> 09:00 BST
    (LONDON, "2027-03-29T10:00:00+00:00", "2027-03-29T10:00:00+00:00"),  # inside hours: unchanged
    (
        LONDON,
        "2027-10-29T16:30:00+00:00",
        "2027-11-01T09:00:00+00:00",
    ),  # Fri 17:30 BST -> Mon 09:00 GMT
    (LONDON, "2027-10-30T12:00:00+00:00", "2027-11-01T09:00:00+00:00"),  # Saturday -> Monday
    (
        LA,
        "2027-03-13T20:00:00+00:00",
        "2027-03-15T16:00:00+00:00",
    ),  # Sat 12:00 PST -> Mon 09:00 PDT
    (LA, "2027-03-12T16:59:00+00:00", "2027-03-12T17:00:00+00:00"),  # Fri 08:59 PST -> 09:00 PST
    (LA, "2027-11-05T23:59:00+00:00", "2027-11-05T23:59:00+00:00"),  # Fri 16:59 PDT: inside
    (
        LA,
        "2027-11-06T00:00:00+00:00",
        "2027-11-08T17:00:00+00:00",
    ),  # Fri 17:00 PDT -> Mon 09:00 PST
]


@pytest.mark.parametrize(("policy", "instant", "expected"), SLOTS)
def test_next_business_slot_across_dst(policy: Policy, instant: str, expected: str) -> None:
    """The next business-hours slot is exact across DST changes in London and Los Angeles."""
    got = next_business_slot(datetime.fromisoformat(instant), policy)
    assert got.astimezone(UTC) == datetime.fromisoformat(expected)


def test_any_time_when_no_business_hours() -> None:
    """business_hours = "" keeps the instant on a business day, else moves to the next day's start."""
    policy = replace(LONDON, business_hours=None)
    saturday = datetime(2027, 3, 27, 12, tzinfo=UTC)
    assert next_business_slot(saturday, policy) == datetime(
        2027, 3, 29, 0, tzinfo=ZoneInfo("Europe/London")
    )
    monday = datetime(2027, 3, 29, 3, tzinfo=UTC)
    assert next_business_slot(monday, policy) == monday
    everyday = replace(
        policy, business_days=frozenset(range(7)), business_hours=(time(9), time(17))
    )
    assert next_business_slot(saturday, everyday) == saturday
