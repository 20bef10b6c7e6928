"""Which letter withdraws from which interviews: one letter per hiring process (SPEC 18).

A letter already written (its row holds bytes) covers for ever the events it was written
for (`OutboxRow.covers`). Among the events no written letter covers, each process gets
at most one letter: its lead is a flagged, upcoming event of scope "process" (the one
whose letter is already waiting, else the one flagged first), and it withdraws from every
other upcoming event of the process too, but the other instances of its own series (one
UID): declining an instance answers for that instance, as a calendar client does. Everything else stands alone, as before: an
event of scope "interview", one outside any process, one whose time has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from decliner.core.plan.process import Member, processes
from decliner.core.plan.situation import Situation

_WRITTEN = ("pending", "sent", "failed")


@dataclass(frozen=True, slots=True)
class Cover:
    """The letters of a pass: lead event id -> the other events its letter withdraws from;
    covered event id -> its lead; and upcoming events that arrived for a process already
    written to, which nothing answers (lead id, for a warning)."""

    others: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lead_of: dict[str, str] = field(default_factory=dict)
    late: dict[str, str] = field(default_factory=dict)


def member(situation: Situation) -> Member:
    """What the process grouping needs of one situation."""
    event = situation.event
    invite = event.invite
    return Member(
        event_id=event.id,
        start=event.start,
        uid=event.uid,
        thread=(invite.message_id, *invite.references) if invite.message_id else invite.references,
        recipient=situation.recipient.email if situation.recipient else "",
        role=situation.named.role,
        company=situation.named.company,
    )


def process_ids(situations: Iterable[Situation]) -> dict[str, str]:
    """Each event id's process id (SPEC 18)."""
    return processes(member(s) for s in situations)


def cover(situations: Sequence[Situation], now: datetime) -> Cover:
    """Which letter covers which events, now."""
    found = Cover()
    for s in situations:
        row = s.withdrawal
        if row is not None and row.state in _WRITTEN and row.raw is not None:
            found.others[s.event.id] = row.covers
            for other in row.covers:
                found.lead_of.setdefault(other, s.event.id)
    written = dict(found.others)
    for group in _groups(situations):
        free = [
            s for s in group if s.event.id not in found.lead_of and s.event.id not in found.others
        ]
        lead = _lead(free, now)
        if lead is None:
            _note_late(found, group, free, written, now)
            continue
        others = tuple(
            s.event.id
            for s in free
            if s is not lead and s.event.uid != lead.event.uid and upcoming(s, now)
        )
        found.others[lead.event.id] = others
        for other in others:
            found.lead_of[other] = lead.event.id
    return found


def upcoming(s: Situation, now: datetime) -> bool:
    """Whether a letter can still withdraw from this interview: ahead, not cancelled by the
    organizer, and not written to on its own."""
    row = s.withdrawal
    written = row is not None and row.state in _WRITTEN
    return s.event.start > now and not s.event.cancelled_by_organizer and not written


def _groups(situations: Sequence[Situation]) -> list[list[Situation]]:
    by_process: dict[str, list[Situation]] = {}
    for s in situations:
        by_process.setdefault(s.process or s.event.id, []).append(s)
    return [
        sorted(group, key=lambda s: (s.event.start, s.event.id))
        for group in by_process.values()
        if len(group) > 1
    ]


def _lead(free: list[Situation], now: datetime) -> Situation | None:
    """The flagged event whose letter speaks for the process, if one is flagged."""
    candidates = [
        s
        for s in free
        if s.scope == "process"
        and s.flagged_since is not None
        and s.recipient is not None
        and upcoming(s, now)
    ]
    waiting = [
        (s.withdrawal.due, s.event.id, s)
        for s in candidates
        if s.withdrawal is not None and s.withdrawal.state == "scheduled"
    ]
    if waiting:
        return min(waiting, key=lambda w: (w[0], w[1]))[2]
    if candidates:
        return min(candidates, key=lambda s: (s.flagged_since or now, s.event.start, s.event.id))
    return None


def _note_late(
    found: Cover,
    group: list[Situation],
    free: list[Situation],
    written: dict[str, tuple[str, ...]],
    now: datetime,
) -> None:
    """Upcoming, unflagged events of a process a written letter already withdrew from."""
    leads = [s.event.id for s in group if s.event.id in written]
    if not leads:
        return
    for s in free:
        if s.flagged_since is None and s.withdrawal is None and upcoming(s, now):
            found.late[s.event.id] = leads[0]
