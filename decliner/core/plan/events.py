"""What decliner knows about one interview, and how a newly read invite changes it.

`merge` is the RFC 5546 rule set for a stream of REQUESTs and CANCELs that may
arrive in any order (several folders, rescans): a higher SEQUENCE wins, a
CANCEL is final until a strictly newer REQUEST, and a copy of the same invite
(the flag folder, a Gmail label) changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime

from decliner.core.parse.booking import BookingLink, unique
from decliner.core.parse.interview import looks_like_interview
from decliner.core.parse.model import NO_START, Address, InviteEvent, InviteKind, InviteMessage

CALENDAR_FOLDER = "calendar"  # the `folder` of an invitation known only from the CalDAV calendar


@dataclass(frozen=True, slots=True)
class Invite:
    """Where an invite message lives, and the headers a reply to it needs."""

    folder: str
    uid: int
    message_id: str
    subject: str
    references: tuple[str, ...]
    from_: Address | None
    reply_to: Address | None

    @property
    def from_calendar(self) -> bool:
        """Whether no mail carried this invitation: it was read from the user's calendar."""
        return self.folder == CALENDAR_FOLDER and self.uid == 0


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One interview (an event, or one instance of a series) as the state db keeps it."""

    id: str
    uid: str
    recurrence_id: str
    sequence: int
    summary: str
    start: datetime
    end: datetime
    all_day: bool
    location: str
    description: str
    rrule: str
    interview: bool
    organizer: Address | None
    attendee: Address | None
    other_attendees: tuple[Address, ...]
    invite: Invite
    ical: str  # the invitation's iCalendar text, as read
    cancelled_by_organizer: bool
    kind: InviteKind = "request"
    booking_links: tuple[BookingLink, ...] = ()
    body_text: str = ""  # the start of the invitation's text body (for "auto" languages)


def event_id(uid: str, recurrence_id: str = "") -> str:
    """The short id of an event instance: 12 hex digits of SHA-1 over UID and RECURRENCE-ID.

    Twelve rather than eight so that a collision (which the primary key would
    turn into a lost invite) stays out of reach; the CLI accepts any unique prefix.
    """
    return hashlib.sha1(f"{uid}\0{recurrence_id}".encode(), usedforsecurity=False).hexdigest()[:12]


def recurrence_key(value: datetime | date | None) -> str:
    """RECURRENCE-ID as stored: ISO UTC for an instant, ISO date for a day, '' for none."""
    if value is None:
        return ""
    return value.isoformat()


def record_from(
    *,
    event_id: str,
    event: InviteEvent,
    message: InviteMessage,
    folder: str,
    uid: int,
    ical: bytes,
    links: tuple[BookingLink, ...] = (),
    body_text: str = "",
) -> EventRecord:
    """A fresh record from a parsed event and the message that carried it; `links` are the
    booking links of the message's bodies (the event's own come first)."""
    invite = Invite(
        folder=folder,
        uid=uid,
        message_id=message.message_id,
        subject=message.subject,
        references=message.references,
        from_=message.from_,
        reply_to=message.reply_to,
    )
    return EventRecord(
        id=event_id,
        uid=event.uid,
        recurrence_id=recurrence_key(event.recurrence_id),
        sequence=event.sequence,
        summary=event.summary,
        start=event.start,
        end=event.end,
        all_day=event.all_day,
        location=event.location,
        description=event.description,
        rrule=event.rrule,
        interview=looks_like_interview(
            event.summary,
            event.description,
            [a.email for a in (event.organizer, message.from_, message.reply_to) if a is not None],
        ),
        organizer=event.organizer,
        attendee=event.attendee,
        other_attendees=event.other_attendees,
        invite=invite,
        ical=ical.decode("utf-8", "replace"),
        cancelled_by_organizer=event.method == "CANCEL" or event.status == "CANCELLED",
        kind=event.kind,
        booking_links=unique([*event.booking_links, *links]),
        body_text=body_text,
    )


def merge(stored: EventRecord | None, incoming: EventRecord) -> EventRecord | None:
    """The record after seeing `incoming`, or None when it changes nothing.

    Mail and the user's calendar merge by UID and RECURRENCE-ID: mail wins for the
    thread (what the withdrawal replies to), the calendar only fills in an update.
    """
    if stored is None:
        return incoming
    if incoming.invite.from_calendar:
        return _from_calendar(stored, incoming)
    if stored.invite.from_calendar:
        # The first mail for an event read from the calendar: it gives the thread.
        newest = incoming if incoming.sequence >= stored.sequence else stored
        return replace(newest, invite=incoming.invite, ical=incoming.ical)
    return _from_mail(stored, incoming)


def _from_mail(stored: EventRecord, incoming: EventRecord) -> EventRecord | None:
    if stored.start == NO_START and not incoming.cancelled_by_organizer:
        return _after_a_bare_cancel(stored, incoming)
    if incoming.cancelled_by_organizer:
        if stored.cancelled_by_organizer or incoming.sequence < stored.sequence:
            # A stale CANCEL from before a re-invite does not cancel the new one.
            return None
        return replace(stored, cancelled_by_organizer=True, sequence=incoming.sequence)
    # An equal SEQUENCE is the same invite again (another folder, a label).
    return incoming if incoming.sequence > stored.sequence else None


def _after_a_bare_cancel(stored: EventRecord, incoming: EventRecord) -> EventRecord:
    """A CANCEL that named only the UID came first: the request gives the times, and a
    request no newer than the cancel stays cancelled."""
    if incoming.sequence > stored.sequence:
        return incoming
    return replace(incoming, cancelled_by_organizer=True, sequence=stored.sequence)


def _from_calendar(stored: EventRecord, incoming: EventRecord) -> EventRecord | None:
    if not stored.invite.from_calendar:
        if incoming.sequence <= stored.sequence or stored.cancelled_by_organizer:
            return None
        # A newer version in the calendar (the server applied an update): new time and
        # place, the mail's thread and iCalendar text kept for the reply.
        return replace(incoming, invite=stored.invite, ical=stored.ical)
    if incoming.sequence < stored.sequence:
        return None
    return None if incoming == stored else incoming
