"""`decliner invites`: the known invitations, each with its status, flag and recipient."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from decliner.config import Config
from decliner.core.plan.cover import cover
from decliner.core.plan.events import EventRecord
from decliner.core.plan.naming import NOTHING, Found
from decliner.core.plan.outbox import OutboxRow
from decliner.core.plan.status import Facts, Status, status
from decliner.service import snapshot as read_model
from decliner.store import Store


@dataclass(frozen=True)
class InviteView:
    """One row of `decliner invites`: the event and what decliner makes of it."""

    event: EventRecord
    status: Status
    flagged_by: str | None
    recipient_email: str | None
    recipient_name: str
    calendar: str | None = None  # the event in the user's own calendar (SPEC 13)
    named: Found = NOTHING  # the role and company the letters name (SPEC 19)
    process: str = ""  # the id shared by the invitations of one hiring process (SPEC 18)


def invites(config: Config, store: Store, now: datetime, *, include_past: bool) -> list[InviteView]:
    """The known invitations with status and flags.

    Without `include_past`, only those still ahead and not cancelled by the organizer.
    """
    snapshot = read_model.read(config, store.connection, now)
    views = []
    every = read_model.situations(config, snapshot)
    letters = cover(every, now)
    for situation in every:
        event = situation.event
        if not include_past and (event.start <= now or event.cancelled_by_organizer):
            continue
        lead = letters.lead_of.get(event.id)
        w, f = situation.withdrawal, situation.followup
        if lead is not None:  # another event's letter withdraws from this one (SPEC 18)
            w, f = snapshot.row(lead, "withdrawal"), snapshot.row(lead, "followup")
        facts = Facts(
            start=event.start,
            cancelled_by_organizer=event.cancelled_by_organizer,
            flagged=situation.flagged_since is not None or lead is not None,
            has_recipient=situation.recipient is not None or lead is not None,
            withdrawal=w.state if w else None,
            followup=f.state if f else None,
            missed=bool(w and w.cancel_reason == "missed"),
        )
        found = snapshot.sources.get(event.id)
        views.append(
            InviteView(
                event=event,
                status=status(facts, now),
                flagged_by=found[0] if found else None,
                recipient_email=situation.recipient.email if situation.recipient else None,
                recipient_name=situation.recipient.name if situation.recipient else "",
                calendar=calendar_state(snapshot.row(event.id, "calendar")),
                named=situation.named,
                process=situation.process,
            )
        )
    return views


def invite_view(config: Config, store: Store, event_id: str, now: datetime) -> InviteView:
    """The one event's row, as `invites --all` would show it."""
    return next(v for v in invites(config, store, now, include_past=True) if v.event.id == event_id)


def calendar_state(row: OutboxRow | None) -> str | None:
    """`invites`' `calendar` field: what became of the event in the user's own calendar."""
    if row is None or row.state == "cancelled":
        return None
    if row.state == "sent":
        return "deleted" if row.change == "delete" else "declined"
    return "failed" if row.state == "failed" else "pending"
