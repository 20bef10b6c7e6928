"""Who receives the withdrawal (SPEC 3): a person, never the user, never a robot.

The robot rules are data, here and nowhere else (docs/design.md lists them with
their sources): local parts nobody reads, domains of machine calendars, and
display names of shared calendars with no person in them.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from decliner.core.parse.model import Address, address_spellings
from decliner.core.plan.events import EventRecord

# Local parts of addresses that no person reads. Schedulers (Google Calendar,
# Outlook, Greenhouse, Lever, GoodTime, Calendly, Zoom) send from these.
ROBOT_LOCAL_PARTS = re.compile(
    r"^(no-?reply|do-?not-?reply|donotreply|noreply-\w+|no_reply|calendar-notification|"
    r"calendar-server|calendar|notifications?|notify|mailer-daemon|postmaster|bounces?|"
    r"scheduling|scheduler|invitations?)([+._-].*)?$",
    re.IGNORECASE,
)
# Google room resources and group calendars ("candidate calendars" shared by a
# recruiting team), and domains only the tools' mailers send from. (Not the tools' own
# domains: their staff recruit too, from calendly.com or zoom.us.)
ROBOT_DOMAINS = (
    "resource.calendar.google.com",
    "group.calendar.google.com",
    "greenhouse-mail.io",
    "hire.lever.co",
)
# Display names of shared calendars and scheduling mailboxes: no person to greet or answer.
ROBOT_NAMES = re.compile(
    r"\b(candidates?|interviews?|interviewing|recruiting|recruitment|hiring|talent|scheduling|"
    r"booking|bookings|team)\s+(calendar|schedule|scheduling|mailbox)\b|^calendar$|"
    r"\bbookings?\b|\bscheduling\b|\bno-?reply\b",
    re.IGNORECASE,
)


def is_robot(email: str, name: str = "") -> bool:
    """Whether an address belongs to a machine (no-reply senders, room resources, group or
    candidate calendars, scheduling mailboxes), by its address or its display name."""
    local, _, domain = email.lower().rpartition("@")
    if any(domain == d or domain.endswith("." + d) for d in ROBOT_DOMAINS):
        return True
    return bool(ROBOT_LOCAL_PARTS.match(local) or (name and ROBOT_NAMES.search(name)))


def resolve(event: EventRecord, me: Collection[str], override: str = "") -> Address | None:
    """The override, else the organizer, else Reply-To, else From; None when no person is left.

    A Reply-To that is a robot is skipped like a robot From: nobody would read it. A static
    invitation (SPEC 1) goes to the message's Reply-To, else its From: its ORGANIZER is
    whatever the tool wrote, often the booking page itself.
    """
    if override:
        return Address(override)
    mine = {spelling for m in me for spelling in address_spellings(m)}
    people = (event.invite.reply_to, event.invite.from_)
    candidates = people if event.kind == "static" else (event.organizer, *people)
    mailboxes = scheduling_mailboxes(event)
    for candidate in candidates:
        if (
            candidate
            and candidate.email
            and candidate.email not in mine
            and candidate.email not in mailboxes
            and not is_robot(candidate.email, candidate.name)
        ):
            return candidate
    return None


_BOOKINGS_MAILBOX = re.compile(r"/owa/calendar/([^/?#]+@[^/?#]+)/bookings", re.IGNORECASE)


def scheduling_mailboxes(event: EventRecord) -> frozenset[str]:
    """Microsoft Bookings mailboxes named in the event's booking links
    (`/owa/calendar/<mailbox>/bookings/...`): the organizer of such an invitation is the
    booking page, not a person."""
    return frozenset(
        match.group(1).lower()
        for link in event.booking_links
        if (match := _BOOKINGS_MAILBOX.search(link.url))
    )
