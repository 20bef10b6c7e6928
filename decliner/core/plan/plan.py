"""Plan, then act: from what is known about each interview, the actions due now.

`plan` is pure and runs once per pass, over a snapshot read in the transaction that
then applies its bookkeeping. Every action carries what its execution needs (the
letter to write, the bytes to send again, the calendar change), so the executor
decides nothing that a test of `plan` cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from decliner.core.plan.actions import (
    Action,
    AfterSent,
    Cancel,
    FileCopy,
    FollowupThread,
    Letter,
    LetterKind,
    MailRef,
    Reschedule,
    Resend,
    Schedule,
    Send,
    UpdateCalendar,
)
from decliner.core.plan.outbox import OutboxRow, RowKey
from decliner.core.plan.situation import Situation
from decliner.core.plan.timing import Policy, followup_due, short_notice

WAITING = ("scheduled", "pending")


def plan(situations: Iterable[Situation], now: datetime, policy: Policy) -> list[Action]:
    """Every action due now, for all interviews: withdrawals, follow-ups, calendar updates,
    then the sent copies still to file."""
    situations = list(situations)
    return [
        *(a for s in situations for a in _withdrawal(s, now, policy)),
        *(a for s in situations for a in _followup(s, now, policy)),
        *(a for s in situations for a in _calendar(s, now)),
        *(a for s in situations for a in _copies(s)),
    ]


def letter_for(s: Situation, kind: LetterKind, now: datetime, policy: Policy) -> Letter:
    """The letter of this kind about `s`'s interview, as it would be written at `now`."""
    return Letter(
        kind=kind,
        event=s.event,
        recipient=s.recipient,
        reason=s.reason,
        language=s.language,
        short_notice=kind == "withdrawal" and short_notice(s.event, now, policy),
        thread=_thread(s, now) if kind == "followup" else None,
        named=s.named,
        scope=s.scope,
    )


def _thread(s: Situation, now: datetime) -> FollowupThread | None:
    """The follow-up answers the newest message of the thread: their reply, if one came."""
    sent = s.withdrawal
    if sent is None or sent.message_id is None:
        return None
    chain = (*sent.references, sent.message_id, *(r.message_id for r in s.replies))
    return FollowupThread(
        in_reply_to=chain[-1],
        references=chain,
        withdrawal_sent=sent.sent_at or now,
        withdrawal_subject=sent.subject,
        replied=bool(s.replies),
    )


def _withdrawal(s: Situation, now: datetime, policy: Policy) -> Iterator[Action]:
    row, event = s.withdrawal, s.event
    key = RowKey(event.id, "withdrawal")
    wanted = s.flagged_since is not None and not event.cancelled_by_organizer
    if row is None:
        if wanted and s.recipient is not None and s.flagged_since is not None:
            due = s.flagged_since + policy.grace
            yield Schedule(key, due)
            yield from _waiting_withdrawal(s, due, now, policy)
        return
    if row.state == "scheduled":
        yield from _waiting_withdrawal(s, row.due, now, policy)
    elif row.state == "cancelled":
        if wanted and row.cancel_reason == "unflagged" and s.flagged_since is not None:
            due = s.flagged_since + policy.grace
            yield Reschedule(key, due)
            yield from _waiting_withdrawal(s, due, now, policy)
    elif row.state == "pending" and now >= row.due:
        if event.cancelled_by_organizer and row.attempts == 0:
            yield Cancel(key, "cancelled_by_organizer")
        else:
            yield from _resend(row, _after_withdrawal(s, policy))


def _waiting_withdrawal(
    s: Situation, due: datetime, now: datetime, policy: Policy
) -> Iterator[Action]:
    """A row not written yet: cancelled, missed, or written and sent once its grace is over."""
    key, event = RowKey(s.event.id, "withdrawal"), s.event
    if s.flagged_since is None:
        yield Cancel(key, "unflagged")
    elif event.cancelled_by_organizer:
        yield Cancel(key, "cancelled_by_organizer")
    elif now >= due and s.recipient is not None:
        if event.start <= now:
            yield Cancel(key, "missed")
        else:
            yield Send(key, letter_for(s, "withdrawal", now, policy), _after_withdrawal(s, policy))


def _after_withdrawal(s: Situation, policy: Policy) -> AfterSent:
    event, change = s.event, policy.calendar_change
    return AfterSent(
        timing=policy if policy.followup_enabled else None,
        calendar=UpdateCalendar(
            RowKey(event.id, "calendar"), event.uid, event.recurrence_id, change
        )
        if change is not None
        else None,
        calendar_url=policy.calendar_url,
        booking=tuple(link for link in event.booking_links if link.action in ("cancel", "manage")),
        summary=event.summary,
        answered=_answered(s),
    )


def _answered(s: Situation) -> MailRef | None:
    invite = s.event.invite
    if not invite.folder or invite.from_calendar:
        return None
    return MailRef(invite.folder, invite.uid)


def _resend(row: OutboxRow, after: AfterSent) -> Iterator[Action]:
    if row.raw is None or row.message_id is None:
        return
    yield Resend(
        row.key,
        row.message_id,
        row.raw,
        row.to + row.cc,
        row.attempts,
        look_in_sent=row.attempts > 0 and row.last_outcome in (None, "cut"),
        after=after,
    )


def _followup(s: Situation, now: datetime, policy: Policy) -> Iterator[Action]:
    sent, row = s.withdrawal, s.followup
    if sent is None or sent.state != "sent" or sent.sent_at is None:
        return
    key = RowKey(s.event.id, "followup")
    if row is None:
        # Normally queued by the withdrawal's AfterSent; this catches a db from before
        # that, or follow-ups enabled after the withdrawal went.
        if (due := followup_due(sent.sent_at, policy)) is not None:
            yield Schedule(key, due)
            yield from _waiting_followup(s, due, now, policy)
        return
    if row.state == "scheduled":
        yield from _waiting_followup(s, row.due, now, policy)
    elif row.state == "pending" and now >= row.due:
        yield from _resend(row, AfterSent())


def _waiting_followup(
    s: Situation, due: datetime, now: datetime, policy: Policy
) -> Iterator[Action]:
    key = RowKey(s.event.id, "followup")
    if policy.skip_if_replied and s.replies:
        yield Cancel(key, "replied")
    elif now >= due:
        yield Send(key, letter_for(s, "followup", now, policy), AfterSent())


def _calendar(s: Situation, now: datetime) -> Iterator[Action]:
    row = s.calendar
    if row is None or row.state not in WAITING or row.due > now:
        return
    yield UpdateCalendar(
        row.key,
        s.event.uid,
        s.event.recurrence_id,
        "delete" if row.change == "delete" else "decline",
        attempts=row.attempts,
        cut=row.attempts > 0 and row.last_outcome is None,
    )


def _copies(s: Situation) -> Iterator[Action]:
    for row in (s.withdrawal, s.followup):
        if row is not None and row.state == "sent" and not row.copied:
            answered = _answered(s) if row.kind == "withdrawal" else None
            yield FileCopy(row.key, row.message_id, row.raw, row.sent_at, answered)
