"""The invariant a pass's snapshot relies on (issue 28): an event that nothing flags and
that has no outbox row gets no action, so `snapshot.read(acting_only=True)` may leave it
unread. A change to `plan` that acts on such events must widen that read too."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from decliner.core.parse.model import Address
from decliner.core.parse.replies import Reply
from decliner.core.plan.plan import plan
from decliner.core.plan.situation import Situation
from decliner.core.plan.timing import Policy
from tests.testbed.records import SAM, interview_record

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
REPLY = Reply("e1", "<r@acme>", "<w@me>", SAM.email, (), (), "Re: Interview", NOW)
POLICIES = [
    Policy(grace=timedelta(0), min_notice=timedelta(hours=24)),
    Policy(
        grace=timedelta(minutes=5),
        min_notice=timedelta(0),
        followup_enabled=False,
        skip_if_replied=True,
        calendar_change="decline",
        calendar_url="https://cal.example/jane/",
    ),
]


@pytest.mark.parametrize(
    ("start", "cancelled", "recipient", "replies", "policy"),
    list(
        itertools.product(
            [NOW - timedelta(days=1), NOW + timedelta(hours=1), NOW + timedelta(days=30)],
            [False, True],
            [SAM, None],
            [(), (REPLY,)],
            POLICIES,
        )
    ),
)
def test_an_unflagged_event_without_outbox_rows_gets_no_action(
    start: datetime,
    cancelled: bool,
    recipient: Address | None,
    replies: tuple[Reply, ...],
    policy: Policy,
) -> None:
    """Past, near or far, cancelled or not, with or without a recipient or replies, under
    either policy: no flag and no outbox row plan nothing."""
    event = interview_record(start, cancelled=cancelled)
    situation = Situation(event, None, recipient, replies=replies)
    assert plan([situation], NOW, policy) == []


def test_a_process_letter_needs_the_upcoming_events_beside_the_acting_ones() -> None:
    """The other side of the invariant: a flagged event's letter names the upcoming,
    unflagged events of its process, so with anything to act on the snapshot also reads
    every upcoming event (`events.by_ids_and_upcoming`); a past one plays no part."""
    flagged = Situation(
        interview_record(NOW + timedelta(days=2), event_id="a", uid="a"),
        NOW - timedelta(minutes=5),
        SAM,
        process="p",
    )
    upcoming = Situation(
        interview_record(NOW + timedelta(days=4), event_id="b", uid="b"), None, SAM, process="p"
    )
    past = Situation(
        interview_record(NOW - timedelta(days=4), event_id="c", uid="c"), None, SAM, process="p"
    )
    policy = POLICIES[1]
    with_both = plan([flagged, upcoming, past], NOW, policy)
    assert with_both != plan([flagged], NOW, policy)
    assert with_both == plan([flagged, upcoming], NOW, policy)
