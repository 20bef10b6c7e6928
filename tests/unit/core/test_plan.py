"""The plan: which actions are due, table-driven, with the clock passed in; each action
carries what its execution needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from decliner.core.parse.booking import BookingLink
from decliner.core.parse.replies import Reply
from decliner.core.plan.actions import (
    Action,
    AfterSent,
    Cancel,
    FileCopy,
    FollowupThread,
    Letter,
    MailRef,
    Reschedule,
    Resend,
    Schedule,
    Send,
    UpdateCalendar,
)
from decliner.core.plan.events import EventRecord, Invite
from decliner.core.plan.outbox import OutboxRow, RowKey, RowKind
from decliner.core.plan.plan import plan
from decliner.core.plan.situation import Situation
from decliner.core.plan.timing import Policy
from tests.testbed.records import SAM, interview_record

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
POLICY = Policy(grace=timedelta(minutes=5), min_notice=timedelta(hours=24))
W, F, C = RowKey("e1", "withdrawal"), RowKey("e1", "followup"), RowKey("e1", "calendar")


def event(start: datetime = NOW + timedelta(days=3), cancelled: bool = False) -> EventRecord:
    return interview_record(start, cancelled=cancelled)


def row(state: str, due: datetime = NOW, kind: RowKind = "withdrawal", **kw: Any) -> OutboxRow:
    fields: dict[str, Any] = {
        "message_id": None,
        "in_reply_to": None,
        "references": (),
        "to": (),
        "cc": (),
        "subject": "",
        "raw": None,
        "attempts": 0,
        "last_error": None,
        "last_attempt": None,
        "last_outcome": None,
        "sent_at": None,
        "cancel_reason": None,
        "copied": False,
        "created": NOW - timedelta(days=1),
    }
    fields.update(kw)
    ids = {"withdrawal": 7, "followup": 8, "calendar": 9}
    return OutboxRow(ids[kind], "e1", kind, state, due, **fields)


def pending(due: datetime = NOW, **kw: Any) -> OutboxRow:
    """A withdrawal rendered and stored, with its bytes."""
    return row("pending", due, message_id="<w@me>", raw=b"bytes", to=("sam@acme.example",), **kw)


def sent(**kw: Any) -> OutboxRow:
    base: dict[str, Any] = {
        "message_id": "<w@me>",
        "raw": b"bytes",
        "subject": "Interview",
        "references": ("<i@acme>",),
        "sent_at": NOW,
        "copied": True,
    }
    return row("sent", **{**base, **kw})


AFTER = AfterSent(timing=POLICY, summary="Interview", answered=MailRef("INBOX", 1))


def send(s: Situation, *, short: bool = False) -> Send:
    """The withdrawal Send that `s` calls for."""
    letter = Letter("withdrawal", s.event, s.recipient, s.reason, s.language, short_notice=short)
    return Send(W, letter, AFTER)


def resend(attempts: int, *, look: bool, after: AfterSent = AFTER, key: RowKey = W) -> Resend:
    return Resend(key, "<w@me>", b"bytes", ("sam@acme.example",), attempts, look, after)


def followup(s: Situation, *, replied: tuple[str, ...] = ()) -> Send:
    thread = FollowupThread(
        in_reply_to=(replied or ("<w@me>",))[-1],
        references=("<i@acme>", "<w@me>", *replied),
        withdrawal_sent=NOW,
        withdrawal_subject="Interview",
        replied=bool(replied),
    )
    return Send(F, Letter("followup", s.event, s.recipient, thread=thread), AfterSent())


FLAGGED = NOW - timedelta(minutes=10)
Expect = Callable[[Situation], list[Action]]
CASES: list[tuple[str, Situation, Expect]] = [
    (
        "flagged, grace over before the first pass: schedule and send at once",
        Situation(event(), FLAGGED, SAM),
        lambda s: [Schedule(W, FLAGGED + timedelta(minutes=5)), send(s)],
    ),
    (
        "flagged, grace over, already begun: schedule as missed",
        Situation(event(start=NOW - timedelta(minutes=1)), FLAGGED, SAM),
        lambda s: [Schedule(W, FLAGGED + timedelta(minutes=5)), Cancel(W, "missed")],
    ),
    (
        "re-flagged after undo, grace over: revive and send",
        Situation(event(), FLAGGED, SAM, row("cancelled", cancel_reason="unflagged")),
        lambda s: [Reschedule(W, FLAGGED + timedelta(minutes=5)), send(s)],
    ),
    ("not flagged: nothing", Situation(event(), None, SAM), lambda s: []),
    (
        "flagged: schedule after grace",
        Situation(event(), NOW, SAM),
        lambda s: [Schedule(W, NOW + timedelta(minutes=5))],
    ),
    ("flagged without recipient: nothing", Situation(event(), NOW, None), lambda s: []),
    (
        "flagged but organizer cancelled: nothing",
        Situation(event(cancelled=True), NOW, SAM),
        lambda s: [],
    ),
    (
        "in grace: wait",
        Situation(event(), NOW, SAM, row("scheduled", NOW + timedelta(minutes=5))),
        lambda s: [],
    ),
    ("grace over: send", Situation(event(), FLAGGED, SAM, row("scheduled")), lambda s: [send(s)]),
    (
        "the flag's reason and language go into the letter",
        Situation(event(), FLAGGED, SAM, row("scheduled"), reason="Moved", language="de"),
        lambda s: [send(s)],
    ),
    (
        "unflagged in grace: cancel",
        Situation(event(), None, SAM, row("scheduled", NOW + timedelta(minutes=1))),
        lambda s: [Cancel(W, "unflagged")],
    ),
    (
        "organizer cancelled in grace",
        Situation(event(cancelled=True), FLAGGED, SAM, row("scheduled")),
        lambda s: [Cancel(W, "cancelled_by_organizer")],
    ),
    (
        "started: missed",
        Situation(event(start=NOW - timedelta(minutes=1)), FLAGGED, SAM, row("scheduled")),
        lambda s: [Cancel(W, "missed")],
    ),
    (
        "short notice",
        Situation(event(start=NOW + timedelta(hours=3)), FLAGGED, SAM, row("scheduled")),
        lambda s: [send(s, short=True)],
    ),
    (
        "re-flagged after undo",
        Situation(event(), NOW, SAM, row("cancelled", cancel_reason="unflagged")),
        lambda s: [Reschedule(W, NOW + timedelta(minutes=5))],
    ),
    (
        "missed stays missed",
        Situation(event(), NOW, SAM, row("cancelled", cancel_reason="missed")),
        lambda s: [],
    ),
    (
        "rendered, never tried (a crash before the attempt): the same bytes, no search",
        Situation(event(), FLAGGED, SAM, pending()),
        lambda s: [resend(0, look=False)],
    ),
    (
        "pending retry due after a temporary failure: the same bytes, no search",
        Situation(event(), FLAGGED, SAM, pending(attempts=1, last_outcome="temporary")),
        lambda s: [resend(1, look=False)],
    ),
    (
        "an attempt whose outcome was never recorded: search the sent folder first",
        Situation(event(), FLAGGED, SAM, pending(attempts=1)),
        lambda s: [resend(1, look=True)],
    ),
    (
        "an attempt cut during DATA: search the sent folder first",
        Situation(event(), FLAGGED, SAM, pending(attempts=2, last_outcome="cut")),
        lambda s: [resend(2, look=True)],
    ),
    (
        "pending retry not yet",
        Situation(event(), FLAGGED, SAM, pending(NOW + timedelta(seconds=30), attempts=1)),
        lambda s: [],
    ),
    (
        "pending, unflagged: still sent",
        Situation(event(), None, SAM, pending(attempts=1, last_outcome="temporary")),
        lambda s: [resend(1, look=False)],
    ),
    (
        "pending, never tried, organizer cancelled: cancel",
        Situation(event(cancelled=True), FLAGGED, SAM, pending()),
        lambda s: [Cancel(W, "cancelled_by_organizer")],
    ),
    ("failed: nothing more", Situation(event(), FLAGGED, SAM, row("failed")), lambda s: []),
    (
        "sent before follow-ups were queued with it: schedule the follow-up",
        Situation(event(), FLAGGED, SAM, sent(sent_at=datetime(2026, 12, 1, 9, tzinfo=UTC))),
        lambda s: [Schedule(F, datetime(2026, 12, 2, 9, tzinfo=UTC))],
    ),
    (
        "follow-up due: written in the withdrawal's thread",
        Situation(event(), FLAGGED, SAM, sent(), row("scheduled", kind="followup")),
        lambda s: [followup(s)],
    ),
    (
        "follow-up due after a reply: it answers the reply",
        Situation(
            event(),
            FLAGGED,
            SAM,
            sent(),
            row("scheduled", kind="followup"),
            replies=(Reply("e1", "<r@acme>", "<w@me>", "sam@acme.example", (), (), "Re", NOW),),
        ),
        lambda s: [followup(s, replied=("<r@acme>",))],
    ),
    (
        "follow-up waiting",
        Situation(
            event(),
            FLAGGED,
            SAM,
            sent(),
            row("scheduled", NOW + timedelta(hours=1), kind="followup"),
        ),
        lambda s: [],
    ),
    (
        "follow-up sent: done",
        Situation(event(), FLAGGED, SAM, sent(), row("sent", kind="followup", copied=True)),
        lambda s: [],
    ),
    (
        "sent but its copy not filed: file it and mark the invitation answered",
        Situation(
            event(), FLAGGED, SAM, sent(copied=False), row("sent", kind="followup", copied=True)
        ),
        lambda s: [FileCopy(W, "<w@me>", b"bytes", NOW, MailRef("INBOX", 1))],
    ),
]


@pytest.mark.parametrize(("name", "situation", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan(name: str, situation: Situation, expected: Expect) -> None:
    """Each situation yields exactly the expected actions, each carrying its data."""
    assert plan([situation], NOW, POLICY) == expected(situation)


def test_follow_up_disabled() -> None:
    """followup.enabled = false queues nothing after the withdrawal, now or when it is sent."""
    off = replace(POLICY, followup_enabled=False)
    assert plan([Situation(event(), FLAGGED, SAM, sent())], NOW, off) == []
    (action,) = plan([Situation(event(), FLAGGED, SAM, row("scheduled"))], NOW, off)
    assert isinstance(action, Send)
    assert action.after.timing is None
    assert action.after.followup_due(NOW) is None


def test_the_follow_up_is_due_a_delay_after_the_withdrawal_goes() -> None:
    """What the Send sets off counts the follow-up's delay from the sending, in business hours."""
    (action,) = plan([Situation(event(), FLAGGED, SAM, row("scheduled"))], NOW, POLICY)
    assert isinstance(action, Send)
    friday_evening = datetime(2026, 12, 4, 18, tzinfo=UTC)
    assert action.after.followup_due(friday_evening) == datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_reply_cancels_follow_up_only_when_configured() -> None:
    """A reply cancels the scheduled follow-up with skip_if_replied, otherwise it still goes."""
    reply = Reply("e1", "<r@acme>", "<w@me>", "sam@acme.example", (), (), "Re", NOW)
    s = Situation(
        event(), FLAGGED, SAM, sent(), row("scheduled", kind="followup"), replies=(reply,)
    )
    assert plan([s], NOW, replace(POLICY, skip_if_replied=True)) == [Cancel(F, "replied")]
    assert plan([s], NOW, POLICY) == [followup(s, replied=("<r@acme>",))]


def test_a_withdrawal_carries_its_calendar_update_and_booking_links() -> None:
    """With a calendar, the Send names the update to run once it is sent; the links the user
    should open to free the slot travel with it (cancel and manage, not reschedule)."""
    links = (
        BookingLink("cancel", "https://cal.example/cancel/1", "Cal"),
        BookingLink("reschedule", "https://cal.example/reschedule/1", "Cal"),
    )
    e = replace(event(), booking_links=links)
    policy = replace(POLICY, calendar_change="delete", calendar_url="https://dav.example/cal/")
    (action,) = plan([Situation(e, FLAGGED, SAM, row("scheduled"))], NOW, policy)
    assert isinstance(action, Send)
    assert action.after.calendar == UpdateCalendar(C, "u1", "", "delete")
    assert action.after.calendar_url == "https://dav.example/cal/"
    assert action.after.booking == links[:1]


def test_an_invitation_only_in_the_calendar_is_not_marked_answered() -> None:
    """No mail carried it, so there is no message to mark."""
    e = replace(event(), invite=Invite("calendar", 0, "", "", (), None, None))
    (action,) = plan([Situation(e, FLAGGED, SAM, row("scheduled"))], NOW, POLICY)
    assert isinstance(action, Send)
    assert action.after.answered is None


def test_calendar_rows_are_planned_when_due() -> None:
    """A due calendar row is an UpdateCalendar with its change; a cut try is flagged as such,
    a row not due or done is left alone."""
    done = row("sent", kind="followup", copied=True)
    base = Situation(event(), FLAGGED, SAM, sent(), done)
    due = row("pending", kind="calendar", change="delete", attempts=1)
    assert plan([replace(base, calendar=due)], NOW, POLICY) == [
        UpdateCalendar(C, "u1", "", "delete", attempts=1, cut=True)
    ]
    retry = replace(due, last_outcome="temporary", change="decline")
    assert plan([replace(base, calendar=retry)], NOW, POLICY) == [
        UpdateCalendar(C, "u1", "", "decline", attempts=1, cut=False)
    ]
    later = replace(due, due=NOW + timedelta(minutes=1))
    assert plan([replace(base, calendar=later)], NOW, POLICY) == []
    assert plan([replace(base, calendar=replace(due, state="sent"))], NOW, POLICY) == []


def test_actions_are_ordered_by_what_they_do_not_by_event() -> None:
    """All withdrawals, then follow-ups, then calendar updates, then copies."""
    a = Situation(event(), FLAGGED, SAM, sent(copied=False), row("scheduled", kind="followup"))
    b = Situation(replace(event(), id="e2"), FLAGGED, SAM)
    kinds = [type(x).__name__ for x in plan([a, b], NOW, POLICY)]
    assert kinds == ["Schedule", "Send", "Send", "FileCopy"]
