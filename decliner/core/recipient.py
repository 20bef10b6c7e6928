"""Who receives the withdrawal (SPEC 3): a person, never the user, never a robot."""

from __future__ import annotations

import re
from collections.abc import Collection

from decliner.core.events import EventRecord
from decliner.core.model import Address

# Local parts of addresses that no person reads. Schedulers (Google Calendar,
# Outlook, Greenhouse, Lever, GoodTime, Calendly, Zoom) send from these.
ROBOT_LOCAL_PARTS = re.compile(
    r"^(no-?reply|do-?not-?reply|donotreply|noreply-\w+|no_reply|calendar-notification|"
    r"calendar-server|calendar|notifications?|notify|mailer-daemon|postmaster|bounces?|"
    r"scheduling|scheduler|invitations?)([+._-].*)?$",
    re.IGNORECASE,
)
ROBOT_DOMAINS = ("resource.calendar.google.com",)


def is_robot(email: str) -> bool:
    """Whether an address belongs to a machine (no-reply senders, room resources)."""
    local, _, domain = email.lower().rpartition("@")
    if any(domain == d or domain.endswith("." + d) for d in ROBOT_DOMAINS):
        return True
    return bool(ROBOT_LOCAL_PARTS.match(local))


def resolve(event: EventRecord, me: Collection[str], override: str = "") -> Address | None:
    """The override, else the organizer, else Reply-To, else From; None when no person is left.

    A Reply-To that is a robot is skipped like a robot From: nobody would read it.
    """
    if override:
        return Address(override)
    mine = {m.lower() for m in me}
    for candidate in (event.organizer, event.invite.reply_to, event.invite.from_):
        if (
            candidate
            and candidate.email
            and candidate.email not in mine
            and not is_robot(candidate.email)
        ):
            return candidate
    return None
