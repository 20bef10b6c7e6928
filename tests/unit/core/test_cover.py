"""Which letter covers which interviews of a hiring process (SPEC 18), as pure data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from decliner.core.plan.actions import Cancel, Send
from decliner.core.plan.cover import cover
from decliner.core.plan.outbox import OutboxRow, RowKey
from decliner.core.plan.plan import plan
from decliner.core.plan.situation import Situation
from decliner.core.plan.timing import Policy
from tests.testbed.records import SAM, interview_record

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GRACE = timedelta(minutes=5)
POLICY = Policy(grace=GRACE, min_notice=timedelta(hours=24))


def row(event_id: str, state: str, due: datetime = NOW, **kw: Any) -> OutboxRow:
    fields: dict[str, Any] = {
        "message_id": "<w@me>" if state != "scheduled" else None,
        "in_reply_to": None,
        "references": (),
        "to": (),
        "cc": (),
        "subject": "",
        "raw": b"bytes" if state != "scheduled" else None,
        "attempts": 0,
        "last_error": None,
        "last_attempt": None,
        "last_outcome": None,
        "sent_at": NOW if state == "sent" else None,
        "cancel_reason": None,
        "copied": False,
        "created": NOW - timedelta(days=1),
    }
    return OutboxRow(1, event_id, "withdrawal", state, due, **{**fields, **kw})


def situation(event_id: str, day: int, *, flagged: datetime | None = None, **kw: Any) -> Situation:
    event = interview_record(NOW + timedelta(days=day), event_id=event_id, uid=event_id)
    return Situation(event, flagged, SAM, process="p", **kw)


def test_one_flag_leads_and_covers_every_other_upcoming_interview() -> None:
    """The flagged event leads; the past one and the one the organizer cancelled are not
    covered; another process is untouched."""
    found = cover(
        [
            situation("a", 2),
            situation("b", 4, flagged=NOW),
            situation("past", -1),
            replace(situation("gone", 5), event=interview_record(NOW, cancelled=True)),
            replace(situation("other", 3), process="q"),
        ],
        NOW,
    )
    assert found.others == {"b": ("a",)}
    assert found.lead_of == {"a": "b"}


def test_the_waiting_letter_keeps_the_lead_when_another_flag_comes() -> None:
    """A letter already waiting leads, though the new flag is on an earlier interview, and
    the later flag's own waiting row is cancelled as merged."""
    situations = [
        situation("a", 2, flagged=NOW, withdrawal=row("a", "scheduled", due=NOW + GRACE)),
        situation(
            "b", 4, flagged=NOW - timedelta(minutes=3), withdrawal=row("b", "scheduled", due=NOW)
        ),
    ]
    assert cover(situations, NOW).others == {"b": ("a",)}
    actions = plan(situations, NOW, POLICY)
    assert Cancel(RowKey("a", "withdrawal"), "merged") in actions
    [letter] = [a for a in actions if isinstance(a, Send)]
    assert [e.id for e in letter.letter.interviews] == ["a", "b"]
    assert letter.after.covers == ("a",)


def test_a_written_letter_covers_what_it_was_written_for_and_no_more() -> None:
    """Once written, a letter's coverage is what it stored; a later invitation of the
    process is left alone and reported late."""
    situations = [
        situation("a", 2, withdrawal=row("a", "sent", covers=("b",))),
        situation("b", 3),
        situation("c", 6),
    ]
    found = cover(situations, NOW)
    assert found.others == {"a": ("b",)}
    assert found.late == {"c": "a"}
    assert not [a for a in plan(situations, NOW, POLICY) if isinstance(a, Send)]


def test_scope_interview_does_not_lead_a_process_letter() -> None:
    """A flag with scope "interview" withdraws from its event alone."""
    situations = [
        situation("a", 2, flagged=NOW - timedelta(minutes=5), scope="interview"),
        situation("b", 3),
    ]
    assert cover(situations, NOW).others == {}
    [send] = [a for a in plan(situations, NOW, POLICY) if isinstance(a, Send)]
    assert send.letter.interviews == () and send.after.others == ()


def test_the_other_interviews_get_a_reply_only_when_they_can_be_answered() -> None:
    """A static calendar (PUBLISH) is named and declined in the own calendar but gets no
    REPLY message; a request does, to its own recipient."""
    static = situation("s", 3)
    static = replace(static, event=replace(static.event, kind="static"))
    situations = [situation("a", 2, flagged=NOW - timedelta(minutes=5)), static, situation("r", 4)]
    [send] = [a for a in plan(situations, NOW, POLICY) if isinstance(a, Send)]
    replies = {o.event_id: o.reply for o in send.after.others}
    assert replies["s"] is None
    reply = replies["r"]
    assert reply is not None
    assert reply.key == RowKey("r", "decline") and reply.letter.kind == "decline"
    assert reply.letter.recipient == SAM


def test_other_instances_of_the_flagged_series_are_not_covered() -> None:
    """Flagging one instance of a series declines that instance: the series (same UID) is
    not swept into the process letter, another interview of the process is."""
    instance = situation("i", 3, flagged=NOW)
    instance = replace(instance, event=replace(instance.event, uid="series", recurrence_id="x"))
    series = situation("m", 1)
    series = replace(series, event=replace(series.event, uid="series"))
    found = cover([instance, series, situation("o", 5)], NOW)
    assert found.others == {"i": ("o",)}
