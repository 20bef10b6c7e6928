"""Decline or delete one interview in the user's own calendar (SPEC 13).

Read the resource with its ETag, let core edit the text, write it back with
`If-Match`. A 412 means another client changed the event between our read and
our write: read again and apply again, never overwrite. The edit is idempotent
(a second decline changes nothing, a deleted event is not found), so an update
repeated after a crash does no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Collection as Many
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from decliner.calendar.client import CalDav, Collection
from decliner.core.caledit.edit import Edit, decline, remove
from decliner.core.plan.outbox import CalendarChange
from decliner.errors import ConnectionFailure

log = logging.getLogger(__name__)

MAX_REREADS = 5


@dataclass(frozen=True)
class Updated:
    """What the update did: `done` (written), `unchanged` (already so), `absent` (not found),
    and the URL of the calendar that holds (or was searched for) the event."""

    result: Literal["done", "unchanged", "absent"]
    calendar_url: str


def recurrence_value(key: str) -> datetime | date | None:
    """A stored RECURRENCE-ID key ('' , an ISO date, or an ISO UTC instant) as a value."""
    if not key:
        return None
    if len(key) == 10:
        return date.fromisoformat(key)
    return datetime.fromisoformat(key)


def apply(
    caldav: CalDav,
    collections: list[Collection],
    *,
    uid: str,
    recurrence_id: str,
    change: CalendarChange,
    addresses: Many[str],
    zone: ZoneInfo,
) -> Updated:
    """Decline or delete the event (or one instance) in whichever calendar holds it."""
    rid = recurrence_value(recurrence_id)
    searched = collections[0].url if collections else caldav.config.url
    for _ in range(MAX_REREADS):
        retry = False
        result: Literal["done", "unchanged", "absent"] = "absent"
        where = searched
        for collection, resource in caldav.find(collections, uid):
            if change == "decline":
                edit = decline(
                    resource.text, uid=uid, recurrence_id=rid, addresses=addresses, zone=zone
                )
            else:
                edit = remove(resource.text, uid=uid, recurrence_id=rid, zone=zone)
            outcome = _write(caldav, resource.href, resource.etag, edit)
            if outcome == "reread":
                retry = True
                break
            if outcome != "absent":
                where = collection.url
                result = "done" if result == "done" or outcome == "done" else outcome
        if not retry:
            return Updated(result, where)
        log.info("%s changed in the calendar meanwhile; reading it again", uid)
    raise ConnectionFailure(f"{uid}: the event kept changing in the calendar; will try again")


def _write(
    caldav: CalDav, href: str, etag: str, edit: Edit
) -> Literal["done", "unchanged", "absent", "reread"]:
    if edit.action in ("absent", "unchanged"):
        return edit.action
    if edit.action == "put":
        outcome = caldav.put(href, edit.text, etag)
    else:
        outcome = caldav.delete(href, etag)
    # 412: changed since our read; 404: moved or deleted since: both mean read again.
    return "done" if outcome == "done" else "reread"
