"""Plan, then act: from what is known about each interview, the actions due now.

`plan` is pure and runs once per pass, over a snapshot read in the transaction that
then applies its bookkeeping. Every action carries what its execution needs (the
letter to write, the bytes to send again, the calendar change), so the executor
decides nothing that a test of `plan` cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime

from decliner.core.plan.actions import (
    Action,
    AfterSent,
    AlsoWithdrawn,
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
from decliner.core.plan.cover import Cover, cover
from decliner.core.plan.outbox import OutboxRow, RowKey
from decliner.core.plan.situation import Situation
from decliner.core.plan.timing import Policy, followup_due, short_notice

WAITING = ("scheduled", "pending")


class _Pass:
    """One planning pass: the situations by event id, and which letter covers which event."""

    def __init__(
        self,
        situations: Sequence[Situation],
        now: datetime,
        policy: Policy,
        letters: Cover | None = None,
    ) -> None:
        self.by_id: Mapping[str, Situation] = {s.event.id: s for s in situations}
        self.cover: Cover = letters if letters is not None else cover(situations, now)
        self.now = now
        self.policy = policy

    def others(self, s: Situation) -> list[Situation]:
        """The other interviews `s`'s letter withdraws from, in time order."""
        found = [self.by_id[i] for i in self.cover.others.get(s.event.id, ()) if i in self.by_id]
        return sorted(found, key=lambda o: (o.event.start, o.event.id))


def plan(
    situations: Iterable[Situation], now: datetime, policy: Policy, letters: Cover | None = None
) -> list[Action]:
    """Every action due now, for all interviews: withdrawals, the REPLY messages of process
    letters, follow-ups, calendar updates, then the sent copies still to file. `letters`:
    `cover(situations, now)` when the caller has it already."""
    situations = list(situations)
    p = _Pass(situations, now, policy, letters)
    return [
        *(a for s in situations for a in _withdrawal(s, p)),
        *(a for s in situations for a in _decline(s, p)),
        *(a for s in situations for a in _followup(s, p)),
        *(a for s in situations for a in _calendar(s, now)),
        *(a for s in situations for a in _copies(s)),
    ]


def letter_for(
    s: Situation,
    kind: LetterKind,
    now: datetime,
    policy: Policy,
    others: Sequence[Situation] = (),
) -> Letter:
    """The letter of this kind about `s`'s interview (and the `others` of its process it
    withdraws from), as it would be written at `now`."""
    events = sorted((s.event, *(o.event for o in others)), key=lambda e: (e.start, e.id))
    interviews = tuple(events) if others else ()
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
        interviews=interviews,
    )


def process_letter_for(
    situations: Sequence[Situation], event_id: str, kind: LetterKind, now: datetime, policy: Policy
) -> Letter:
    """`letter_for` the event `event_id` as a pass would write it now: with the other
    interviews of its process, or, for an event another letter covers, its REPLY message."""
    p = _Pass(situations, now, policy)
    s = p.by_id[event_id]
    lead = p.cover.lead_of.get(event_id)
    if lead is not None and kind == "decline":
        return _decline_letter(s, p.by_id[lead])
    return letter_for(s, kind, now, policy, p.others(s))


def _decline_letter(s: Situation, lead: Situation) -> Letter:
    return Letter(
        kind="decline",
        event=s.event,
        recipient=s.recipient,
        reason=lead.reason,
        language=lead.language,
        named=lead.named,
        scope=lead.scope,
        language_from=lead.event,
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


def _withdrawal(s: Situation, p: _Pass) -> Iterator[Action]:
    row, event, now = s.withdrawal, s.event, p.now
    key = RowKey(event.id, "withdrawal")
    if event.id in p.cover.lead_of:
        # Another event's letter withdraws from this one: its own letter never goes.
        if row is not None and row.state == "scheduled":
            yield Cancel(key, "unflagged" if s.flagged_since is None else "merged")
        return
    wanted = s.flagged_since is not None and not event.cancelled_by_organizer
    if row is None:
        if wanted and s.recipient is not None and s.flagged_since is not None:
            due = s.flagged_since + p.policy.grace
            yield Schedule(key, due)
            yield from _waiting_withdrawal(s, due, p)
        return
    if row.state == "scheduled":
        yield from _waiting_withdrawal(s, row.due, p)
    elif row.state == "cancelled":
        if wanted and row.cancel_reason in ("unflagged", "merged") and s.flagged_since is not None:
            due = s.flagged_since + p.policy.grace
            yield Reschedule(key, due)
            yield from _waiting_withdrawal(s, due, p)
    elif row.state == "pending" and now >= row.due:
        if event.cancelled_by_organizer and row.attempts == 0:
            yield Cancel(key, "cancelled_by_organizer")
        else:
            yield from _resend(row, _after_withdrawal(s, p))


def _waiting_withdrawal(s: Situation, due: datetime, p: _Pass) -> Iterator[Action]:
    """A row not written yet: cancelled, missed, or written and sent once its grace is over."""
    key, event, now = RowKey(s.event.id, "withdrawal"), s.event, p.now
    if s.flagged_since is None:
        yield Cancel(key, "unflagged")
    elif event.cancelled_by_organizer:
        yield Cancel(key, "cancelled_by_organizer")
    elif now >= due and s.recipient is not None:
        if event.start <= now:
            yield Cancel(key, "missed")
        else:
            letter = letter_for(s, "withdrawal", now, p.policy, p.others(s))
            yield Send(key, letter, _after_withdrawal(s, p))


def _update(s: Situation, policy: Policy) -> UpdateCalendar | None:
    event, change = s.event, policy.calendar_change
    if change is None:
        return None
    return UpdateCalendar(RowKey(event.id, "calendar"), event.uid, event.recurrence_id, change)


def _after_withdrawal(s: Situation, p: _Pass) -> AfterSent:
    event, policy = s.event, p.policy
    return AfterSent(
        timing=policy if policy.followup_enabled else None,
        calendar=_update(s, policy),
        calendar_url=policy.calendar_url,
        booking=tuple(
            link
            for e in (event, *(o.event for o in p.others(s)))
            for link in e.booking_links
            if link.action in ("cancel", "manage")
        ),
        summary=event.summary,
        answered=_answered(s),
        others=tuple(
            AlsoWithdrawn(o.event.id, _reply(o, s), _update(o, policy)) for o in p.others(s)
        ),
    )


def _reply(s: Situation, lead: Situation) -> Send | None:
    """The REPLY message declining `s`, covered by `lead`'s letter: to its organizer, when
    its invitation can be answered (a REQUEST) and names someone to answer."""
    if s.event.kind != "request" or s.recipient is None:
        return None
    return Send(
        RowKey(s.event.id, "decline"),
        _decline_letter(s, lead),
        AfterSent(answered=_answered(s)),
    )


def _decline(s: Situation, p: _Pass) -> Iterator[Action]:
    """A REPLY message queued when its process letter went: sent once, as any message."""
    row, lead = s.decline, p.cover.lead_of.get(s.event.id)
    if row is None or row.due > p.now:
        return
    if row.state == "scheduled" and lead is not None:
        if (reply := _reply(s, p.by_id[lead])) is not None:
            yield reply
    elif row.state == "pending":
        yield from _resend(row, AfterSent(answered=_answered(s)))


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


def _followup(s: Situation, p: _Pass) -> Iterator[Action]:
    sent, row, now, policy = s.withdrawal, s.followup, p.now, p.policy
    if sent is None or sent.state != "sent" or sent.sent_at is None:
        return
    key = RowKey(s.event.id, "followup")
    if row is None:
        # Normally queued by the withdrawal's AfterSent; this catches a db from before
        # that, or follow-ups enabled after the withdrawal went.
        if (due := followup_due(sent.sent_at, policy)) is not None:
            yield Schedule(key, due)
            yield from _waiting_followup(s, due, p)
        return
    if row.state == "scheduled":
        yield from _waiting_followup(s, row.due, p)
    elif row.state == "pending" and now >= row.due:
        yield from _resend(row, AfterSent())


def _waiting_followup(s: Situation, due: datetime, p: _Pass) -> Iterator[Action]:
    key = RowKey(s.event.id, "followup")
    if p.policy.skip_if_replied and s.replies:
        yield Cancel(key, "replied")
    elif p.now >= due:
        letter = letter_for(s, "followup", p.now, p.policy, p.others(s))
        yield Send(key, letter, AfterSent())


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
    for row in (s.withdrawal, s.followup, s.decline):
        if row is not None and row.state == "sent" and not row.copied:
            answered = _answered(s) if row.kind in ("withdrawal", "decline") else None
            yield FileCopy(row.key, row.message_id, row.raw, row.sent_at, answered)
