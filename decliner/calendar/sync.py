"""Read invitations from the user's own calendar into the state db, incrementally (SPEC 13).

Per collection, the cheapest question the server can answer: an RFC 6578
sync-collection REPORT with the stored token (a quiet pass is that one request),
else the CalendarServer CTag (one PROPFIND) and, when it moved, every member's
ETag. Only members new or with a new ETag are fetched, in calendar-multiget
REPORTs. An expired sync token means one full listing, compared with what is
stored: nothing is recorded twice, and nothing is sent twice (the outbox is
keyed by event, not by what was read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from decliner.calendar.client import (
    CalDav,
    Collection,
    Listing,
    Resource,
    SyncTokenInvalid,
    SyncUnsupported,
)
from decliner.config import Config
from decliner.core.parse.model import InviteMessage, Rejected
from decliner.core.parse.vcalendar import parse_calendar
from decliner.core.plan.events import CALENDAR_FOLDER, event_id, record_from, recurrence_key
from decliner.mail.ingest import chunked
from decliner.store import Store
from decliner.store import calendars as calendar_db
from decliner.store import events as event_db

log = logging.getLogger(__name__)

FETCH_BATCH = 100  # members per calendar-multiget REPORT


@dataclass
class CalendarReport:
    """What reading the calendars found."""

    calendars: int = 0
    fetched: int = 0
    invites: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)


class CalendarReader:
    """Brings the state db up to date with the user's calendars."""

    def __init__(
        self, config: Config, store: Store, caldav: CalDav, *, now: Callable[[], datetime]
    ) -> None:
        self.me = config.account.addresses
        self.zone = config.account.zone
        self.store = store
        self.caldav = caldav
        self.now = now

    def read(self, collections: list[Collection]) -> CalendarReport:
        """One incremental pass over these collections."""
        report = CalendarReport(calendars=len(collections))
        for collection in collections:
            self._read_one(collection, report)
        return report

    def _read_one(self, collection: Collection, report: CalendarReport) -> None:
        conn = self.store.connection
        known = calendar_db.state(conn, collection.url)
        found = self._listing(collection, known)
        if found is None:
            return
        listing, ctag = found
        stored = calendar_db.objects(conn, collection.url)
        wanted = [
            href
            for href, etag in listing.changed.items()
            if href not in stored or not etag or stored[href].etag != etag
        ]
        gone = set(listing.deleted) & set(stored)
        if listing.complete:
            gone |= set(stored) - set(listing.changed)
        if wanted:
            with self.store.transaction():
                calendar_db.ensure(conn, collection.url, collection.name)
        for batch in chunked(wanted, FETCH_BATCH):
            resources = self.caldav.fetch(collection, batch)
            report.fetched += len(resources)
            with self.store.transaction():
                for resource in resources:
                    report.invites += self._record(collection, resource, report)
        with self.store.transaction():
            calendar_db.forget_objects(conn, collection.url, sorted(gone))
            calendar_db.save_state(
                conn,
                collection.url,
                collection.name,
                sync_token=listing.token,
                ctag=ctag,
                now=self.now(),
            )
        report.removed += len(gone)

    def _listing(
        self, collection: Collection, known: calendar_db.SyncState
    ) -> tuple[Listing, str | None] | None:
        """What changed (and the CTag to store), or None when nothing did."""
        if known.ctag is None:
            try:
                return self.caldav.sync(collection, known.sync_token), None
            except SyncTokenInvalid:
                log.info("%s: sync token expired; listing the calendar again", collection.url)
                return self.caldav.sync(collection, None), None
            except SyncUnsupported:
                log.info("%s: no sync-collection; using its CTag and ETags", collection.url)
        ctag = self.caldav.ctag(collection) or ""
        if known.ctag is not None and ctag and ctag == known.ctag:
            return None
        return self.caldav.etags(collection), ctag

    def _record(self, collection: Collection, resource: Resource, report: CalendarReport) -> int:
        """Merge one resource's invitations into the events; 1 if it held one."""
        db = self.store.connection
        label = f"calendar {collection.name or collection.url} {resource.href}"
        data = resource.text.encode("utf-8")
        parsed = parse_calendar(data, me=self.me, default_tz=self.zone)
        if isinstance(parsed, Rejected):
            problem = f"{label}: skipped an unreadable event ({parsed.reason}: {parsed.detail})"
            log.warning("%s", problem)
            report.skipped.append(problem)
            calendar_db.save_object(
                db,
                collection.url,
                calendar_db.StoredObject(resource.href, resource.etag, (), problem),
            )
            return 0
        ids: list[str] = []
        for event in parsed[1] if parsed else ():
            for warning in event.warnings:
                log.warning("%s: event %s: %s", label, event.uid, warning)
            mine = event.organizer is not None and event.organizer.email in self.me
            if event.attendee is None or mine:
                continue  # the user's own event, or one that does not invite them
            rid = recurrence_key(event.recurrence_id)
            eid = event_id(event.uid, rid)
            incoming = record_from(
                event_id=eid,
                event=event,
                message=InviteMessage(subject=event.summary),
                folder=CALENDAR_FOLDER,
                uid=0,
                ical=data,
            )
            event_db.merge_in(db, incoming, self.now())
            ids.append(eid)
        calendar_db.save_object(
            db, collection.url, calendar_db.StoredObject(resource.href, resource.etag, tuple(ids))
        )
        return 1 if ids else 0
