"""Parse interview invitations from message bytes into plain `ParsedInvite` data.

Pure: bytes and the user's addresses in, data out; nothing here raises on a bad
message. Every instant is resolved to aware UTC or the message is `Rejected`.
The calendar parts are read by `vcalendar.py`, each VEVENT by `vevent.py`.
"""

from __future__ import annotations

import email
from collections.abc import Iterable, Sequence
from email import policy
from email.message import Message
from zoneinfo import ZoneInfo

from decliner.core.parse import booking
from decliner.core.parse.interview import NOT_AN_INTERVIEW, looks_like_interview
from decliner.core.parse.mime import find_calendar_parts, parse_headers, text_bodies
from decliner.core.parse.model import (
    MAX_MESSAGE_LINES,
    InviteEvent,
    InviteMessage,
    ParsedInvite,
    Rejected,
    clipped_text,
)
from decliner.core.parse.vcalendar import parse_calendar


def _interviews(events: tuple[InviteEvent, ...], message: InviteMessage) -> tuple[InviteEvent, ...]:
    """A static calendar's events that look like an interview, in a message not sent to a
    list (a webinar or a careers newsletter is no invitation); every event of a request."""
    senders = [a.email for a in (message.from_, message.reply_to) if a is not None]
    return tuple(
        e
        for e in events
        if e.kind == "request"
        or (
            not message.bulk
            and not NOT_AN_INTERVIEW.search(e.summary)
            and looks_like_interview(
                e.summary, e.description, [*senders, *([e.organizer.email] if e.organizer else [])]
            )
        )
    )


def parse_parts(
    headers: bytes | Message,
    calendar_parts: Sequence[bytes],
    *,
    me: Iterable[str],
    default_tz: ZoneInfo,
    bodies: Sequence[tuple[str, str]] = (),
) -> ParsedInvite | Rejected | None:
    """An invitation from header bytes, decoded calendar parts fetched separately, and the
    message's ("plain" | "html", text) bodies (for booking links).

    The first part that is an invitation wins; otherwise the first rejection, else None.
    """
    me = tuple(me)
    rejected: Rejected | None = None
    for part in calendar_parts:
        result = parse_calendar(part, me=me, default_tz=default_tz)
        if isinstance(result, tuple):
            method, events = result
            message = parse_headers(headers)
            events = _interviews(events, message)
            if not events:
                continue
            links = [
                link
                for kind, text in bodies
                for link in (booking.in_html(text) if kind == "html" else booking.in_text(text))
            ]
            plain = next((text for kind, text in bodies if kind == "plain"), "")
            return ParsedInvite(
                message,
                method,
                events,
                part,
                booking_links=booking.unique(links),
                body_text=clipped_text(plain),
            )
        rejected = rejected or result
    return rejected


def parse_message(
    raw: bytes, *, me: Iterable[str], default_tz: ZoneInfo
) -> ParsedInvite | Rejected | None:
    """The invitation in a whole RFC 5322 message, a rejection, or None if it is no invite."""
    if (lines := raw.count(b"\n")) > MAX_MESSAGE_LINES:
        return Rejected(
            "too-large", f"message of {lines:,} lines is over the limit of {MAX_MESSAGE_LINES:,}"
        )
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
        parts = find_calendar_parts(msg)
    except Exception as exc:  # noqa: BLE001 -- the email package may raise on junk
        return Rejected("malformed", f"unreadable MIME structure: {type(exc).__name__}: {exc}")
    if not parts:
        return None
    return parse_parts(msg, parts, me=me, default_tz=default_tz, bodies=text_bodies(msg))
