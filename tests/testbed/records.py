"""Stored events built by hand, for tests of planning and of the runner."""

from __future__ import annotations

from datetime import datetime, timedelta

from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, Invite

SAM = Address("sam@acme.example", "Sam Recruiter")


def interview_record(
    start: datetime,
    *,
    event_id: str = "e1",
    uid: str = "u1",
    summary: str = "Interview",
    invite_uid: int = 1,
    cancelled: bool = False,
) -> EventRecord:
    """An hour-long interview Sam organized and Jane was invited to by mail in INBOX."""
    return EventRecord(
        id=event_id,
        uid=uid,
        recurrence_id="",
        sequence=0,
        summary=summary,
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
        invite=Invite("INBOX", invite_uid, "<i@acme>", summary, (), SAM, None),
        ical="",
        cancelled_by_organizer=cancelled,
    )
