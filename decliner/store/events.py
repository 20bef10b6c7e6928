"""Events in the state db: load and save `EventRecord`s, keyed by UID + RECURRENCE-ID."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from decliner.core.parse.booking import BookingLink
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord, Invite, merge
from decliner.store.db import iso_utc

_COLUMNS = (
    "id, uid, recurrence_id, sequence, summary, starts_at, ends_at, all_day, location,"
    " description, rrule, interview, organizer_email, organizer_name, attendee_email,"
    " other_attendees, invite_folder, invite_uid, invite_message_id, invite_subject,"
    " invite_references, invite_from_email, invite_from_name, invite_reply_to_email,"
    " invite_reply_to_name, calendar, cancelled_by_organizer, kind, booking_links, body_text"
)


def _address(email: str | None, name: str | None) -> Address | None:
    return Address(email, name or "") if email else None


def _record(row: sqlite3.Row) -> EventRecord:
    return EventRecord(
        id=row["id"],
        uid=row["uid"],
        recurrence_id=row["recurrence_id"],
        sequence=row["sequence"],
        summary=row["summary"],
        start=datetime.fromisoformat(row["starts_at"]),
        end=datetime.fromisoformat(row["ends_at"]),
        all_day=bool(row["all_day"]),
        location=row["location"] or "",
        description=row["description"] or "",
        rrule=row["rrule"] or "",
        interview=bool(row["interview"]),
        organizer=_address(row["organizer_email"], row["organizer_name"]),
        attendee=_address(row["attendee_email"], ""),
        other_attendees=tuple(
            Address(a["email"], a["name"]) for a in json.loads(row["other_attendees"])
        ),
        invite=Invite(
            folder=row["invite_folder"] or "",
            uid=row["invite_uid"] or 0,
            message_id=row["invite_message_id"] or "",
            subject=row["invite_subject"] or "",
            references=tuple(json.loads(row["invite_references"] or "[]")),
            from_=_address(row["invite_from_email"], row["invite_from_name"]),
            reply_to=_address(row["invite_reply_to_email"], row["invite_reply_to_name"]),
        ),
        ical=row["calendar"],
        cancelled_by_organizer=bool(row["cancelled_by_organizer"]),
        kind=row["kind"],
        booking_links=tuple(
            BookingLink(link["action"], link["url"], link.get("tool", ""))
            for link in json.loads(row["booking_links"])
        ),
        body_text=row["body_text"],
    )


def get(conn: sqlite3.Connection, uid: str, recurrence_id: str) -> EventRecord | None:
    """The stored event with this identity, if any."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM events WHERE uid = ? AND recurrence_id = ?",  # noqa: S608 -- constant column list
        (uid, recurrence_id),
    ).fetchone()
    return None if row is None else _record(row)


def by_id(conn: sqlite3.Connection, event_id: str) -> EventRecord | None:
    """The stored event with this short id, if any."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?", (event_id,)).fetchone()  # noqa: S608 -- constant column list
    return None if row is None else _record(row)


def all_events(conn: sqlite3.Connection) -> list[EventRecord]:
    """Every stored event, soonest first."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM events ORDER BY starts_at, id")  # noqa: S608 -- constant column list
    return [_record(row) for row in rows]


def by_ids(conn: sqlite3.Connection, event_ids: Iterable[str]) -> list[EventRecord]:
    """The stored events of these ids, soonest first (as `all_events` orders them)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?))"  # noqa: S608 -- constant column list
        " ORDER BY starts_at, id",
        (json.dumps(sorted(set(event_ids))),),
    )
    return [_record(row) for row in rows]


def by_ids_and_upcoming(
    conn: sqlite3.Connection, event_ids: Iterable[str], now: datetime
) -> list[EventRecord]:
    """The stored events of these ids and every event still ahead and not cancelled by
    its organizer, soonest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each(?))"  # noqa: S608 -- constant column list
        " OR (starts_at > ? AND cancelled_by_organizer = 0) ORDER BY starts_at, id",
        (json.dumps(sorted(set(event_ids))), iso_utc(now)),
    )
    return [_record(row) for row in rows]


def upcoming_count(conn: sqlite3.Connection, now: datetime) -> int:
    """How many events are still ahead and not cancelled by their organizer."""
    row = conn.execute(
        "SELECT count(*) FROM events WHERE starts_at > ? AND cancelled_by_organizer = 0",
        (iso_utc(now),),
    ).fetchone()
    return int(row[0])


def save(conn: sqlite3.Connection, record: EventRecord, now: datetime) -> None:
    """Insert or replace the event's fields, keeping its first_seen."""
    invite = record.invite
    values = {
        "id": record.id,
        "uid": record.uid,
        "recurrence_id": record.recurrence_id,
        "sequence": record.sequence,
        "summary": record.summary,
        "starts_at": iso_utc(record.start),
        "ends_at": iso_utc(record.end),
        "all_day": int(record.all_day),
        "location": record.location,
        "description": record.description,
        "rrule": record.rrule,
        "interview": int(record.interview),
        "organizer_email": record.organizer.email if record.organizer else None,
        "organizer_name": record.organizer.name if record.organizer else None,
        "attendee_email": record.attendee.email if record.attendee else None,
        "other_attendees": json.dumps(
            [{"email": a.email, "name": a.name} for a in record.other_attendees]
        ),
        "invite_folder": invite.folder,
        "invite_uid": invite.uid,
        "invite_message_id": invite.message_id,
        "invite_subject": invite.subject,
        "invite_references": json.dumps(list(invite.references)),
        "invite_from_email": invite.from_.email if invite.from_ else None,
        "invite_from_name": invite.from_.name if invite.from_ else None,
        "invite_reply_to_email": invite.reply_to.email if invite.reply_to else None,
        "invite_reply_to_name": invite.reply_to.name if invite.reply_to else None,
        "calendar": record.ical,
        "cancelled_by_organizer": int(record.cancelled_by_organizer),
        "kind": record.kind,
        "booking_links": json.dumps([link.as_json() for link in record.booking_links]),
        "body_text": record.body_text,
        "first_seen": iso_utc(now),
        "updated": iso_utc(now),
    }
    names = ", ".join(values)
    updates = ", ".join(f"{k} = excluded.{k}" for k in values if k not in {"id", "first_seen"})
    conn.execute(
        f"INSERT INTO events ({names}) VALUES ({', '.join('?' for _ in values)})"  # noqa: S608 -- names are our own keys; values are bound
        f" ON CONFLICT (id) DO UPDATE SET {updates}",
        tuple(values.values()),
    )


def merge_in(conn: sqlite3.Connection, incoming: EventRecord, now: datetime) -> None:
    """Merge a record just read (from mail or the calendar) into the stored one of its
    identity by core's rules, and save the result when it changes anything."""
    merged = merge(get(conn, incoming.uid, incoming.recurrence_id), incoming)
    if merged is not None:
        save(conn, merged, now)


def repoint(conn: sqlite3.Connection, event_ids: Iterable[str], folder: str, uid: int) -> None:
    """Point events at another copy of their invite (the one they used is gone)."""
    conn.executemany(
        "UPDATE events SET invite_folder = ?, invite_uid = ? WHERE id = ?",
        [(folder, uid, eid) for eid in event_ids],
    )


def cancel_instances(conn: sqlite3.Connection, uid: str, now: datetime) -> None:
    """Mark every stored instance of a series cancelled (the organizer cancelled the series)."""
    conn.execute(
        "UPDATE events SET cancelled_by_organizer = 1, updated = ? WHERE uid = ? AND recurrence_id != ''",
        (iso_utc(now), uid),
    )
