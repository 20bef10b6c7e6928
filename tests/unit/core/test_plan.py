"""The plan: which outbox actions are due, table-driven, with the clock passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, Invite
from decliner.core.plan.plan import (
    NEW_ROW,
    Cancel,
    Dispatch,
    OutboxEntry,
    Policy,
    Reschedule,
    Schedule,
    Situation,
    next_business_slot,
    plan,
    retry_delay,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SAM = Address("sam@acme.example", "Sam Recruiter")
POLICY = Policy(grace=timedelta(minutes=5), min_notice=timedelta(hours=24))


def event(start: datetime = NOW + timedelta(days=3), cancelled: bool = False) -> EventRecord:
    return EventRecord(
        id="e1",
        uid="u1",
        recurrence_id="",
        sequence=0,
        summary="Interview",
        start=start,
        end=start + timedelta(hours=1),
        all_day=False,
        location="",
        description="",
        rrule="",
        interview=True,
        organizer=SAM,
        attendee=Address("jane@example.com"),
        other_attendees=(),
        invite=Invite("INBOX", 1, "<i@acme>", "Interview", (), SAM, None),
        calendar="",
        cancelled_by_organizer=cancelled,
    )


def row(state: str, due: datetime = NOW, kind: str = "withdrawal", **kw: object) -> OutboxEntry:
    return OutboxEntry(id=7 if kind == "withdrawal" else 8, kind=kind, state=state, due=due, **kw)  # type: ignore[arg-type]


THIS = Situation(event(), None, None)  # in an expected Dispatch: the case's own situation


def dispatch(row_id: int, kind: str = "withdrawal", *, short: bool = False) -> Dispatch:
    return Dispatch(row_id, kind, THIS, short)  # type: ignore[arg-type]


def carried(actions: list[object], situation: Situation) -> list[object]:
    """`actions` with THIS replaced by `situation`: a Dispatch carries what it acts on."""
    return [
        replace(a, situation=situation) if isinstance(a, Dispatch) and a.situation is THIS else a
        for a in actions
    ]


FLAGGED = NOW - timedelta(minutes=10)
CASES = [
    (
        "flagged, grace over before the first pass: schedule and send at once",
        Situation(event(), FLAGGED, SAM),
        [Schedule("e1", "withdrawal", FLAGGED + timedelta(minutes=5)), dispatch(NEW_ROW)],
    ),
    (
        "flagged, grace over, already begun: schedule as missed",
        Situation(event(start=NOW - timedelta(minutes=1)), FLAGGED, SAM),
        [Schedule("e1", "withdrawal", FLAGGED + timedelta(minutes=5)), Cancel(NEW_ROW, "missed")],
    ),
    (
        "re-flagged after undo, grace over: revive and send",
        Situation(event(), FLAGGED, SAM, row("cancelled", cancel_reason="unflagged")),
        [Reschedule(7, FLAGGED + timedelta(minutes=5)), dispatch(7)],
    ),
    ("not flagged: nothing", Situation(event(), None, SAM), []),
    (
        "flagged: schedule after grace",
        Situation(event(), NOW, SAM),
        [Schedule("e1", "withdrawal", NOW + timedelta(minutes=5))],
    ),
    ("flagged without recipient: nothing", Situation(event(), NOW, None), []),
    ("flagged but organizer cancelled: nothing", Situation(event(cancelled=True), NOW, SAM), []),
    (
        "in grace: wait",
        Situation(event(), NOW, SAM, row("scheduled", NOW + timedelta(minutes=5))),
        [],
    ),
    (
        "grace over: send",
        Situation(event(), FLAGGED, SAM, row("scheduled")),
        [dispatch(7)],
    ),
    (
        "unflagged in grace: cancel",
        Situation(event(), None, SAM, row("scheduled", NOW + timedelta(minutes=1))),
        [Cancel(7, "unflagged")],
    ),
    (
        "organizer cancelled in grace",
        Situation(event(cancelled=True), FLAGGED, SAM, row("scheduled")),
        [Cancel(7, "cancelled_by_organizer")],
    ),
    (
        "started: missed",
        Situation(event(start=NOW - timedelta(minutes=1)), FLAGGED, SAM, row("scheduled")),
        [Cancel(7, "missed")],
    ),
    (
        "short notice",
        Situation(event(start=NOW + timedelta(hours=3)), FLAGGED, SAM, row("scheduled")),
        [dispatch(7, short=True)],
    ),
    (
        "re-flagged after undo",
        Situation(event(), NOW, SAM, row("cancelled", cancel_reason="unflagged")),
        [Reschedule(7, NOW + timedelta(minutes=5))],
    ),
    (
        "missed stays missed",
        Situation(event(), NOW, SAM, row("cancelled", cancel_reason="missed")),
        [],
    ),
    (
        "pending retry due",
        Situation(event(), FLAGGED, SAM, row("pending", attempts=1)),
        [dispatch(7)],
    ),
    (
        "pending retry not yet",
        Situation(event(), FLAGGED, SAM, row("pending", NOW + timedelta(seconds=30), attempts=1)),
        [],
    ),
    (
        "pending, unflagged: still sent",
        Situation(event(), None, SAM, row("pending", attempts=1)),
        [dispatch(7)],
    ),
    ("failed: nothing more", Situation(event(), FLAGGED, SAM, row("failed")), []),
    (
        "sent: schedule follow-up",
        Situation(event(), FLAGGED, SAM, row("sent", sent_at=datetime(2026, 12, 1, 9, tzinfo=UTC))),
        [Schedule("e1", "followup", datetime(2026, 12, 2, 9, tzinfo=UTC))],
    ),
    (
        "follow-up due",
        Situation(
            event(), FLAGGED, SAM, row("sent", sent_at=NOW), row("scheduled", kind="followup")
        ),
        [dispatch(8, "followup")],
    ),
    (
        "follow-up waiting",
        Situation(
            event(),
            FLAGGED,
            SAM,
            row("sent", sent_at=NOW),
            row("scheduled", NOW + timedelta(hours=1), kind="followup"),
        ),
        [],
    ),
    (
        "follow-up sent: done",
        Situation(event(), FLAGGED, SAM, row("sent", sent_at=NOW), row("sent", kind="followup")),
        [],
    ),
]


@pytest.mark.parametrize(("name", "situation", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan(name: str, situation: Situation, expected: list[object]) -> None:
    """Each situation yields exactly the expected actions."""
    assert plan([situation], NOW, POLICY) == carried(expected, situation)


def test_follow_up_disabled() -> None:
    """followup.enabled = false queues nothing after the withdrawal."""
    sent = Situation(event(), FLAGGED, SAM, row("sent", sent_at=NOW))
    assert plan([sent], NOW, replace(POLICY, followup_enabled=False)) == []


def test_reply_cancels_follow_up_only_when_configured() -> None:
    """A reply cancels the scheduled follow-up with skip_if_replied, otherwise it still goes."""
    s = Situation(
        event(),
        FLAGGED,
        SAM,
        row("sent", sent_at=NOW),
        row("scheduled", kind="followup"),
        replied=True,
    )
    assert plan([s], NOW, replace(POLICY, skip_if_replied=True)) == [Cancel(8, "replied")]
    assert plan([s], NOW, POLICY) == carried([dispatch(8, "followup")], s)


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
