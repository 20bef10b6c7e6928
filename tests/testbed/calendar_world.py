"""Jane's own CalDAV calendar on the private Radicale, beside her mailbox (SPEC 13 tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from decliner.config import Config
from tests.testbed.mailfactory import calendar, google_invite
from tests.testbed.radicale import Radicale
from tests.testbed.world import SOON, World

BERLIN = ZoneInfo("Europe/Berlin")


def stored_copy(ics: str) -> str:
    """The invitation as a calendar server keeps it: no METHOD, plus a client's own property."""
    lines = [line for line in ics.split("\r\n") if not line.startswith("METHOD:")]
    at = lines.index("BEGIN:VALARM")
    lines[at:at] = ["X-MOZ-LASTACK:20261120T090000Z", "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC"]
    return "\r\n".join(lines)


def weekly_series(*, uid: str, first: datetime, organizer: str, me: str) -> str:
    """A weekly interview loop in Europe/Berlin time, as the user's calendar holds it."""
    local = first.astimezone(BERLIN)
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Test Scheduler//EN",
            "BEGIN:VTIMEZONE",
            "TZID:Europe/Berlin",
            "BEGIN:STANDARD",
            "DTSTART:19701025T030000",
            "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
            "TZOFFSETFROM:+0200",
            "TZOFFSETTO:+0100",
            "END:STANDARD",
            "BEGIN:DAYLIGHT",
            "DTSTART:19700329T020000",
            "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "TZOFFSETFROM:+0100",
            "TZOFFSETTO:+0200",
            "END:DAYLIGHT",
            "END:VTIMEZONE",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTART;TZID=Europe/Berlin:{local:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Berlin:{local + timedelta(hours=1):%Y%m%dT%H%M%S}",
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "DTSTAMP:20261120T000000Z",
            f'ORGANIZER;CN="Sam":mailto:{organizer}',
            f"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{me}",
            "SUMMARY:Interview loop",
            "SEQUENCE:0",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


@dataclass
class CalendarWorld:
    """World (Jane and Sam, Dovecot, SMTP) plus Jane's calendar "Work" on Radicale."""

    world: World
    radicale: Radicale
    calendar_url: str

    def config(self, calendar: str = "", *, grace: str = "0", url: str = "") -> Config:
        """Jane's config with a `[calendar]` section (her IMAP login is her CalDAV login)."""
        return self.world.config(
            extra=f'[calendar]\nurl = "{url or self.radicale.url}"\n{calendar}', grace=grace
        )

    def put(self, name: str, ics: str) -> str:
        """Put an event into Jane's calendar; its URL."""
        self.radicale.put_event(self.world.jane, self.calendar_url, name, ics)
        return self.calendar_url + name

    def get(self, url: str) -> str:
        """The event's text as the server now serves it."""
        return self.radicale.get(self.world.jane, url)[1]

    def invite_both(self, uid: str, start: datetime) -> str:
        """Sam's invitation by mail (flagged) and the copy in Jane's calendar; the copy's URL."""
        ics = self.invite_ics(uid, start)
        self.world.invite(uid, start=start)
        return self.put(f"{uid}.ics", stored_copy(ics))

    def invite_ics(self, uid: str, start: datetime, summary: str = "Interview") -> str:
        return calendar(
            uid=uid,
            start=start,
            summary=summary,
            organizer=self.world.sam.address,
            organizer_name="Sam",
            me=self.world.jane.address,
        )

    def series_and_one_instance(self, uid: str, name: str, week: int) -> tuple[str, datetime]:
        """A weekly series in Jane's calendar (Berlin time, from SOON + 1 day at 09:00) and
        Sam's flagged invitation by mail for its instance `week` weeks in, the RECURRENCE-ID
        in UTC; the series' URL and that instance's start."""
        first = (SOON + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        url = self.put(
            name,
            weekly_series(
                uid=uid, first=first, organizer=self.world.sam.address, me=self.world.jane.address
            ),
        )
        instance = first + timedelta(weeks=week)
        ics = self.invite_ics(uid, instance).replace(
            f"UID:{uid}\r\n", f"UID:{uid}\r\nRECURRENCE-ID:{instance:%Y%m%dT%H%M%SZ}\r\n"
        )
        self.mail_invite(ics, uid, instance)
        return url, instance

    def mail_invite(self, ics: str, uid: str, start: datetime) -> None:
        """Sam's invitation carrying `ics`, flagged, in Jane's INBOX."""
        raw, _ = google_invite(
            organizer=self.world.sam.address,
            organizer_name="Sam",
            me=self.world.jane.address,
            uid=uid,
            start=start,
            ics=ics,
        )
        self.world.dovecot.append(self.world.jane, "INBOX", raw, keywords=["Decline"])

    def log(self, kind: str = "calendar") -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.world.cli("log", "--json").stdout)
        return [r for r in rows if r["kind"] == kind]

    def invites(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(
            self.world.cli("invites", "--json", "--cached").stdout
        )
        return found


def changed_lines(before: str, after: str) -> tuple[set[str], set[str]]:
    """The unfolded lines only in `before`, and only in `after`."""

    def unfolded(text: str) -> set[str]:
        return set(text.replace("\r\n ", "").replace("\n ", "").splitlines())

    old, new = unfolded(before), unfolded(after)
    return old - new, new - old
