"""Invitations as real schedulers send them, addressed to test-bed accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid

from decliner.cli.demo_mail import WINDOWS_VTIMEZONE, WINDOWS_ZONE


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(
    *,
    uid: str,
    start: datetime,
    summary: str,
    organizer: str,
    organizer_name: str,
    me: str,
    minutes: int = 60,
    sequence: int = 0,
    method: str = "REQUEST",
    others: tuple[str, ...] = (),
    windows_zone: bool = False,
) -> str:
    """A VCALENDAR with one VEVENT inviting `me` (and `others`)."""
    end = start + timedelta(minutes=minutes)
    if windows_zone:
        local = "Europe/Berlin"
        from zoneinfo import ZoneInfo

        s, e = (t.astimezone(ZoneInfo(local)).strftime("%Y%m%dT%H%M%S") for t in (start, end))
        times = f"DTSTART;TZID={WINDOWS_ZONE}:{s}\nDTEND;TZID={WINDOWS_ZONE}:{e}"
        zone = WINDOWS_VTIMEZONE  # the same Outlook block the demo sends
    else:
        times = f"DTSTART:{_utc(start)}\nDTEND:{_utc(end)}"
        zone = ""
    attendees = "".join(
        f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}\n"
        for a in (me, *others)
    )
    text = (
        f"BEGIN:VCALENDAR\nPRODID:-//Test Scheduler//EN\nVERSION:2.0\nCALSCALE:GREGORIAN\nMETHOD:{method}\n"
        f"{zone}BEGIN:VEVENT\n{times}\nDTSTAMP:{_utc(datetime(2026, 11, 20, tzinfo=UTC))}\n"
        f'ORGANIZER;CN="{organizer_name}":mailto:{organizer}\nUID:{uid}\n{attendees}'
        f"SEQUENCE:{sequence}\nSTATUS:CONFIRMED\nSUMMARY:{summary}\nLOCATION:https://meet.example/abc\n"
        f"BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT10M\nDESCRIPTION:Reminder\nEND:VALARM\n"
        f"END:VEVENT\nEND:VCALENDAR\n"
    )
    return text.replace("\n", "\r\n")


def google_invite(
    *,
    organizer: str,
    organizer_name: str,
    me: str,
    uid: str,
    start: datetime,
    summary: str = "Interview",
    others: tuple[str, ...] = (),
    ics: str = "",
) -> tuple[bytes, str]:
    """Google Calendar's shape: mixed > alternative > calendar, plus invite.ics; robot From.
    `ics` replaces the calendar made from the other arguments. An address in another script
    is written raw in the headers (RFC 6532), as a server that speaks SMTPUTF8 delivers it."""
    ics = ics or calendar(
        uid=uid,
        start=start,
        summary=summary,
        organizer=organizer,
        organizer_name=organizer_name,
        me=me,
        others=others,
    )
    msg = EmailMessage(policy=SMTP if organizer.isascii() and me.isascii() else SMTPUTF8)
    msg["From"] = f'"{organizer_name} (Google Calendar)" <calendar-notification@google.com>'
    msg["Reply-To"] = f'"{organizer_name}" <{organizer}>'
    msg["To"] = me
    msg["Subject"] = f"Invitation: {summary} @ {start:%a %b %d, %Y}"
    msg["Date"] = format_datetime(datetime(2026, 11, 20, 9, tzinfo=UTC))
    message_id = make_msgid(domain="google.com")
    msg["Message-ID"] = message_id
    msg.set_content(f"You have been invited to: {summary}\n")
    msg.add_alternative(f"<p>You have been invited to <b>{summary}</b></p>", subtype="html")
    msg.add_alternative(
        ics.encode(), maintype="text", subtype="calendar", params={"method": "REQUEST"}
    )
    msg.make_mixed()
    msg.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return msg.as_bytes(), message_id


def outlook_invite(
    *,
    organizer: str,
    organizer_name: str,
    me: str,
    uid: str,
    start: datetime,
    summary: str = "Interview",
) -> tuple[bytes, str]:
    """Exchange's shape: alternative with a quoted-printable calendar in a Windows zone."""
    ics = calendar(
        uid=uid,
        start=start,
        summary=summary,
        organizer=organizer,
        organizer_name=organizer_name,
        me=me,
        windows_zone=True,
    )
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f'"{organizer_name}" <{organizer}>'
    msg["To"] = me
    msg["Subject"] = summary
    msg["Date"] = format_datetime(datetime(2026, 11, 20, 9, tzinfo=UTC))
    message_id = make_msgid(domain="outlook.example")
    msg["Message-ID"] = message_id
    msg.set_content(f"{summary}\n", cte="quoted-printable")
    msg.add_alternative(
        ics, subtype="calendar", params={"method": "REQUEST"}, cte="quoted-printable"
    )
    return msg.as_bytes(), message_id


def robot_invite(
    *, recruiter: str, recruiter_name: str, me: str, uid: str, start: datetime
) -> tuple[bytes, str]:
    """A recruiting tool's shape: robot organizer and From, the human only in Reply-To."""
    robot = "no-reply@greenhouse-mail.example"
    ics = calendar(
        uid=uid,
        start=start,
        summary="Onsite loop",
        organizer=robot,
        organizer_name="Greenhouse",
        me=me,
    )
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"Greenhouse <{robot}>"
    msg["Reply-To"] = f'"{recruiter_name}" <{recruiter}>'
    msg["To"] = me
    msg["Subject"] = "Onsite loop scheduled"
    msg["Date"] = format_datetime(datetime(2026, 11, 20, 9, tzinfo=UTC))
    message_id = make_msgid(domain="greenhouse-mail.example")
    msg["Message-ID"] = message_id
    msg.set_content("Your onsite loop is scheduled.\n")
    msg.add_attachment(
        ics.encode(), maintype="application", subtype="octet-stream", filename="invite.ics"
    )
    return msg.as_bytes(), message_id
