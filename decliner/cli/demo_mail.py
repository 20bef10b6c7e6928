"""The demo's mail: invitations shaped as real schedulers send them, dated relative to now.

Google Calendar (multipart/mixed > alternative > text/calendar, plus invite.ics,
sent by a robot with the organizer in Reply-To), Outlook/Exchange (a
quoted-printable calendar in a Windows zone name with its VTIMEZONE), a
recruiting tool (robot organizer, the recruiter only in Reply-To), and a plain
mail that is no invitation. All addresses are in reserved example domains.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

ME = ("Jane Doe", "jane.doe@example.com")

# Outlook's name for Central European time, with the rules Exchange sends for it.
WINDOWS_ZONE = "W. Europe Standard Time"
WINDOWS_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
"""


@dataclass(frozen=True)
class Mail:
    """One message of the sandbox, with a label for the narration."""

    label: str
    raw: bytes
    message_id: str


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _calendar(
    *,
    uid: str,
    start: datetime,
    minutes: int,
    summary: str,
    organizer: tuple[str, str],
    attendees: tuple[tuple[str, str], ...],
    location: str,
    description: str,
    now: datetime,
    prodid: str,
    windows_zone: bool = False,
) -> bytes:
    end = start + timedelta(minutes=minutes)
    if windows_zone:
        berlin = ZoneInfo("Europe/Berlin")
        s, e = (t.astimezone(berlin).strftime("%Y%m%dT%H%M%S") for t in (start, end))
        times = f"DTSTART;TZID={WINDOWS_ZONE}:{s}\nDTEND;TZID={WINDOWS_ZONE}:{e}\n"
        zone = WINDOWS_VTIMEZONE
    else:
        times, zone = f"DTSTART:{_utc(start)}\nDTEND:{_utc(end)}\n", ""
    people = "".join(
        f'ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN="{name}":mailto:{addr}\n'
        for name, addr in attendees
    )
    text = (
        f"BEGIN:VCALENDAR\nPRODID:{prodid}\nVERSION:2.0\nCALSCALE:GREGORIAN\nMETHOD:REQUEST\n{zone}"
        f"BEGIN:VEVENT\n{times}DTSTAMP:{_utc(now)}\n"
        f'ORGANIZER;CN="{organizer[0]}":mailto:{organizer[1]}\nUID:{uid}\n{people}'
        f"CREATED:{_utc(now)}\nDESCRIPTION:{_escape(description)}\nLOCATION:{_escape(location)}\n"
        f"SEQUENCE:0\nSTATUS:CONFIRMED\nSUMMARY:{_escape(summary)}\nTRANSP:OPAQUE\n"
        "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT10M\nDESCRIPTION:Reminder\nEND:VALARM\n"
        "END:VEVENT\nEND:VCALENDAR\n"
    )
    return _fold(text).replace("\n", "\r\n").encode()


def _fold(text: str) -> str:
    """Fold content lines at 75 octets, as RFC 5545 asks."""
    out = []
    for line in text.split("\n"):
        data = line.encode()
        while len(data) > 75:
            cut = 75
            while cut and (data[cut] & 0xC0) == 0x80:  # never inside a UTF-8 sequence
                cut -= 1
            out.append(data[:cut].decode())
            data = b" " + data[cut:]
        out.append(data.decode())
    return "\n".join(out)


def _headers(msg: EmailMessage, *, sender: str, subject: str, sent: datetime, domain: str) -> str:
    msg["From"] = sender
    msg["To"] = f"{ME[0]} <{ME[1]}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    message_id = make_msgid(domain=domain)
    msg["Message-ID"] = message_id
    return message_id


def google_invite(start: datetime, now: datetime) -> Mail:
    """Priya at Acme invites through Google Calendar: the robot sends, Priya organizes."""
    priya = ("Priya Raman", "priya@acme.example")
    summary = "Interview – Acme"
    ics = _calendar(
        uid=f"{secrets.token_hex(13)}@google.com",
        start=start,
        minutes=60,
        summary=summary,
        organizer=priya,
        attendees=(ME, ("Tom Becker", "tom@acme.example")),
        location="https://meet.google.com/abc-defg-hij",
        description="Technical interview with the platform team (Priya, Tom).",
        now=now,
        prodid="-//Google Inc//Google Calendar 70.9054//EN",
    )
    msg = EmailMessage(policy=SMTP)
    when = start.strftime("%a %b %d, %Y")
    message_id = _headers(
        msg,
        sender=f'"{priya[0]} (Google Calendar)" <calendar-notification@google.com>',
        subject=f"Invitation: {summary} @ {when} ({ME[1]})",
        sent=now - timedelta(hours=20),
        domain="google.com",
    )
    msg["Reply-To"] = f"{priya[0]} <{priya[1]}>"
    msg.set_content(
        f"{priya[0]} has invited you to: {summary}\n\nJoin with Google Meet:"
        " https://meet.google.com/abc-defg-hij\n"
    )
    msg.add_alternative(f"<p>{priya[0]} has invited you to <b>{summary}</b></p>", subtype="html")
    msg.add_alternative(ics, maintype="text", subtype="calendar", params={"method": "REQUEST"})
    msg.make_mixed()
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return Mail("Google Calendar invitation from Priya Raman (Acme)", msg.as_bytes(), message_id)


def outlook_invite(start: datetime, now: datetime) -> Mail:
    """Pat at Initech invites from Outlook: a Windows zone name, quoted-printable."""
    pat = ("Lee, Pat", "pat@initech.example")
    summary = "Technical screen - Initech"
    ics = _calendar(
        uid="040000008200E00074C5B7101A82E0080000000070A1C3D4E5F6DA01000000000000000010000000",
        start=start,
        minutes=45,
        summary=summary,
        organizer=pat,
        attendees=(ME,),
        location="Microsoft Teams Meeting",
        description="45 minutes with the data team. Join on Teams.",
        now=now,
        prodid="Microsoft Exchange Server 2010",
        windows_zone=True,
    )
    msg = EmailMessage(policy=SMTP)
    message_id = _headers(
        msg,
        sender=f'"{pat[0]}" <{pat[1]}>',
        subject=summary,
        sent=now - timedelta(hours=6),
        domain="initech.example",
    )
    msg.set_content(f"{summary}\n\nMicrosoft Teams meeting\n", cte="quoted-printable")
    msg.add_alternative(
        ics.decode(), subtype="calendar", params={"method": "REQUEST"}, cte="quoted-printable"
    )
    return Mail("Outlook invitation from Pat Lee (Initech)", msg.as_bytes(), message_id)


def recruiting_tool_invite(start: datetime, now: datetime) -> Mail:
    """Globex's recruiting tool schedules an onsite: a robot organizer, Sam in Reply-To."""
    robot = ("Globex Recruiting", "no-reply@globex.example")
    sam = ("Sam Carter", "sam@globex.example")
    ics = _calendar(
        uid="onsite-48213@globex.example",
        start=start,
        minutes=180,
        summary="Onsite loop (Globex)",
        organizer=robot,
        attendees=(ME,),
        location="Globex HQ, 1 Example Way",
        description="Three conversations with the team, then lunch.",
        now=now,
        prodid="-//Globex Hire//Scheduler 4.2//EN",
    )
    msg = EmailMessage(policy=SMTP)
    message_id = _headers(
        msg,
        sender=f"{robot[0]} <{robot[1]}>",
        subject="Your onsite loop with Globex is scheduled",
        sent=now - timedelta(hours=3),
        domain="globex.example",
    )
    msg["Reply-To"] = f"{sam[0]} <{sam[1]}>"
    msg.set_content(
        "Hi Jane,\n\nYour onsite loop is scheduled; the invitation is attached.\n\n"
        "Sam Carter, Globex Talent\n"
    )
    msg.add_attachment(ics, maintype="application", subtype="octet-stream", filename="invite.ics")
    return Mail(
        "recruiting-tool invitation from Globex (robot organizer)", msg.as_bytes(), message_id
    )


def plain_mail(now: datetime) -> Mail:
    """A friend's mail: no invitation, so decliner leaves it alone."""
    msg = EmailMessage(policy=SMTP)
    message_id = _headers(
        msg,
        sender="Mia Schulz <mia@friends.example>",
        subject="Dinner on Friday?",
        sent=now - timedelta(hours=1),
        domain="friends.example",
    )
    msg.set_content("Hi Jane,\n\nAre you free for dinner on Friday? 19:30 at the usual place.\n")
    return Mail("a plain mail from a friend (no invitation)", msg.as_bytes(), message_id)


def reply_to(withdrawal: bytes, now: datetime) -> bytes:
    """Priya's answer to the withdrawal, threaded as her mail client would."""
    from email import message_from_bytes
    from email import policy as policies

    ours = message_from_bytes(withdrawal, policy=policies.default)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Priya Raman <priya@acme.example>"
    msg["To"] = f"{ME[0]} <{ME[1]}>"
    msg["Subject"] = str(ours["Subject"])
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain="acme.example")
    msg["In-Reply-To"] = str(ours["Message-ID"])
    msg["References"] = f"{ours['References']} {ours['Message-ID']}"
    msg.set_content(
        "Hi Jane,\n\nThanks for letting us know, and congratulations on the offer.\n"
        "All the best,\nPriya\n"
    )
    return msg.as_bytes()


def sandbox_inbox(now: datetime, zone: ZoneInfo) -> list[Mail]:
    """The sandbox INBOX: three invitations a few working days ahead, and one plain mail."""

    def day(weekdays: int, hour: int) -> datetime:
        """The `weekdays`-th Monday-to-Friday after today, at `hour` (nobody interviews on a
        Saturday)."""
        local = now.astimezone(zone)
        while weekdays:
            local += timedelta(days=1)
            weekdays -= local.weekday() < 5
        return local.replace(hour=hour, minute=0, second=0, microsecond=0).astimezone(UTC)

    return [
        google_invite(day(2, 10), now),
        outlook_invite(day(3, 14), now),
        recruiting_tool_invite(day(4, 9), now),
        plain_mail(now),
    ]
